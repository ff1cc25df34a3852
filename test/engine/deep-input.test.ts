import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/engine/errors.js';
import { parsePlaybook } from '../../src/engine/playbook.js';
import { parseExpression, MAX_EXPRESSION_DEPTH } from '../../src/engine/expressions.js';
import { actions } from '../../src/actions/index.js';

function issuesOf(text: string): string[] {
  try {
    parsePlaybook(text, 'deep.yaml', { registry: actions });
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues.map((issue) => `${issue.line}:${issue.col}: ${issue.message}`);
  }
  return [];
}

const step = (extra: string) => `name: deep\nsteps:\n  - id: a\n    uses: github.disable-workflow\n${extra}    with:\n      repo: acme/web\n      workflow: deploy.yml\n`;

describe('deep and long input gives a located validation error, not a RangeError', () => {
  it('an expression nested 1,500 levels deep', () => {
    const expr = `${'('.repeat(1500)}true${')'.repeat(1500)}`;
    const issues = issuesOf(step(`    if: \${{ ${expr} }}\n`));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^5:\d+: .*nested deeper than 200 levels/);
    expect(issues[0]!.length).toBeLessThan(400);
    // Long operator chains and `!` runs too (the evaluator recurses over the tree)
    expect(() => parseExpression(Array(5000).fill('true').join(' == '))).toThrow(/nested deeper/);
    expect(() => parseExpression(`${'!'.repeat(5000)}true`)).toThrow(/nested deeper/);
    // While a reasonable one parses
    expect(() => parseExpression(`${'('.repeat(MAX_EXPRESSION_DEPTH - 5)}true${')'.repeat(MAX_EXPRESSION_DEPTH - 5)}`)).not.toThrow();
  });

  it('a 5,000-step needs cycle', () => {
    const n = 5000;
    let steps = '';
    for (let i = 0; i < n; i++) steps += `  - id: s${i}\n    uses: github.disable-workflow\n    needs: [s${(i + 1) % n}]\n    with:\n      repo: acme/web\n      workflow: deploy.yml\n`;
    const issues = issuesOf(`name: cycle\nsteps:\n${steps}`);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/dependency cycle: s0 -> s4999 -> .* more \.\.\. -> s1 -> s0/);
  });

  it('a 25-day timeout (a timer cannot hold it) and a day-long one', () => {
    expect(issuesOf(step('    timeout: 25d\n'))[0]).toMatch(/^5:\d+: .*timeout: at most 24h/);
    expect(issuesOf(step('    timeout: 24h\n'))).toEqual([]);
  });
});
