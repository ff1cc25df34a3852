import { describe, expect, it, vi } from 'vitest';
import ActionsList, { type ActionSummary } from '../../../src/commands/actions/list.js';
import { runCommand } from '../../helpers/cli.js';

vi.mock('../../../src/actions/index.js', async () => {
  const { fakeActions } = await import('../../helpers/fake-actions.js');
  return { actions: fakeActions, findAction: (id: string) => fakeActions.find((action) => action.id === id) };
});

describe('cicd-ir actions list', () => {
  it('prints a table of id, mutating, summary and permissions, sorted by id', async () => {
    const outcome = await runCommand(ActionsList, []);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stdout).toBe(
      [
        'ID                        MUTATING  SUMMARY                               PERMISSIONS',
        '------------------------  --------  ------------------------------------  -----------------------------',
        'aws.revoke-role-sessions  yes       test action aws.revoke-role-sessions  test:aws.revoke-role-sessions',
        'github.cancel-runs        yes       test action github.cancel-runs        test:github.cancel-runs',
        'github.disable-workflow   yes       test action github.disable-workflow   test:github.disable-workflow',
        '',
      ].join('\n'),
    );
  });

  it('--json returns each action with its permissions and outputs', async () => {
    const outcome = await runCommand<{ actions: ActionSummary[] }>(ActionsList, ['--json']);
    expect(outcome.result!.actions.map((action) => action.id)).toEqual(['aws.revoke-role-sessions', 'github.cancel-runs', 'github.disable-workflow']);
    expect(outcome.result!.actions[2]).toEqual({
      id: 'github.disable-workflow',
      summary: 'test action github.disable-workflow',
      mutating: true,
      permissions: ['test:github.disable-workflow'],
      outputs: ['workflow_id', 'state'],
    });
    expect(JSON.parse(outcome.stdout)).toEqual(outcome.result);
  });
});
