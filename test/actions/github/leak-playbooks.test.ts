import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { z } from 'zod';
import { findAction } from '../../../src/actions/index.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

interface RawStep {
  id: string;
  uses: string;
  with?: Record<string, unknown>;
  needs?: string | string[];
  for_each?: unknown;
}

/**
 * Until the playbook engine lands, the leak-triage playbooks are checked against the registry
 * directly: every step uses a registered action with keys its schema knows, every `needs` names
 * an earlier step, and every `steps.X.outputs.Y` names an output X declares.
 */
function checkPlaybook(path: string): string[] {
  return checkPlaybookText(readFileSync(`${root}${path}`, 'utf8'));
}

function checkPlaybookText(yamlText: string): string[] {
  const problems: string[] = [];
  const doc = parse(yamlText) as { name?: string; steps: RawStep[]; inputs?: Record<string, unknown> };
  const seen = new Map<string, string>();
  for (const step of doc.steps) {
    const action = findAction(step.uses);
    if (!action) {
      problems.push(`${step.id}: unknown action ${step.uses}`);
      continue;
    }
    const shape = (action.schema as unknown as z.ZodObject).shape as Record<string, unknown>;
    for (const key of Object.keys(step.with ?? {})) if (!(key in shape)) problems.push(`${step.id}: ${step.uses} has no input ${key}`);
    for (const need of [step.needs ?? []].flat()) if (!seen.has(need)) problems.push(`${step.id}: needs unknown or later step ${need}`);
    const text = JSON.stringify(step);
    for (const [, stepId, output] of text.matchAll(/steps\.([\w-]+)\.outputs\.(\w+)/g)) {
      const producer = seen.get(stepId!);
      if (!producer) problems.push(`${step.id}: refers to unknown step ${stepId}`);
      else if (!(output! in findAction(producer)!.outputs)) problems.push(`${step.id}: ${producer} has no output ${output}`);
    }
    for (const [, input] of text.matchAll(/inputs\.(\w+)/g)) if (!(input! in (doc.inputs ?? {}))) problems.push(`${step.id}: unknown input ${input}`);
    seen.set(step.id, step.uses);
  }
  return problems;
}

describe('leak-triage playbooks', () => {
  it.each([
    'playbooks/compromised-action.yaml',
    'playbooks/examples/github-scan-run-logs.yaml',
    'playbooks/examples/github-delete-run-logs.yaml',
    'playbooks/examples/github-purge-caches.yaml',
    'playbooks/examples/github-audit-runs.yaml',
  ])('%s uses registered actions, known inputs and declared outputs', (path) => {
    expect(checkPlaybook(path)).toEqual([]);
  });

  it('compromised-action covers the tj-actions response end to end', () => {
    const doc = parse(readFileSync(`${root}playbooks/compromised-action.yaml`, 'utf8')) as { steps: RawStep[] };
    expect(doc.steps.map((step) => step.uses)).toEqual([
      'github.find-workflow-uses',
      'github.collect-evidence',
      'github.disable-workflow',
      'github.scan-run-logs',
      'github.revoke-tokens',
      'npm.revoke-token',
      'aws.deactivate-access-key',
      'github.delete-run-logs',
      'github.purge-caches',
      'github.audit-runs',
    ]);
  });

  it('the checker catches a wrong input and an undeclared output', () => {
    // Guard against a checker that passes everything: a broken copy must fail.
    expect(checkPlaybookText('steps:\n  - id: a\n    uses: github.scan-run-logs\n    with: { repo: x, nope: 1 }\n  - id: b\n    uses: github.delete-run-logs\n    needs: a\n    with: { runs: "${{ steps.a.outputs.missing }}" }\n')).toEqual([
      'a: github.scan-run-logs has no input nope',
      'b: github.scan-run-logs has no output missing',
    ]);
  });
});

