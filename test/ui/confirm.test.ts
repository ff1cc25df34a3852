import { describe, expect, it } from 'vitest';
import { confirmDestructive, type Terminal } from '../../src/ui/confirm.js';

function terminal(interactive: boolean, answer = ''): Terminal & { asked: string[] } {
  const asked: string[] = [];
  return {
    interactive,
    asked,
    async ask(question) {
      asked.push(question);
      return answer;
    },
  };
}

describe('confirmation of runs that change things', () => {
  it('never asks for a dry run, even without a terminal', async () => {
    const t = terminal(false);
    await expect(confirmDestructive({ dryRun: true, yes: false, what: 'x', terminal: t })).resolves.toBeUndefined();
    expect(t.asked).toEqual([]);
  });

  it('does not ask when --yes is given', async () => {
    const t = terminal(true);
    await confirmDestructive({ dryRun: false, yes: true, what: 'x', terminal: t });
    expect(t.asked).toEqual([]);
  });

  it('refuses without a terminal and without --yes (exit 2, says to pass --yes)', async () => {
    await expect(confirmDestructive({ dryRun: false, yes: false, what: 'disable deploy.yml', terminal: terminal(false) })).rejects.toMatchObject({
      exitCode: 2,
      message: 'refusing to disable deploy.yml without confirmation: no terminal to ask on',
      suggestions: expect.arrayContaining(['pass --yes to confirm a run that changes things']),
    });
  });

  it('asks on a terminal and goes on only on "yes"', async () => {
    const yes = terminal(true, ' YES ');
    await confirmDestructive({ dryRun: false, yes: false, what: 'disable deploy.yml', terminal: yes });
    expect(yes.asked).toEqual(['This will disable deploy.yml. Type "yes" to go on: ']);
    await expect(confirmDestructive({ dryRun: false, yes: false, what: 'x', terminal: terminal(true, 'y') })).rejects.toMatchObject({ exitCode: 2 });
  });
});
