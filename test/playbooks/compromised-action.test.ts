import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { readJournal } from '../../src/engine/journal.js';
import { withLab } from '../../src/ui/lab-session.js';
import { runSession } from '../../src/ui/run-session.js';
import { repoRoot } from '../helpers/cli.js';

const out = mkdtempSync(join(tmpdir(), 'cicd-ir-compromised-action-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

describe('playbooks/compromised-action.yaml against the lab', () => {
  it('finds the org workflow using tj-actions/changed-files, revokes what its log printed, deletes the log, and leaks nothing', async () => {
    await withLab(join(repoRoot, 'scenarios', 'tj-actions-log-leak.yaml'), undefined, async (lab) => {
      // Given the tj-actions lab: acme-robotics' deploy.yml used the compromised action and its
      // public log printed the runner's secrets, base64 twice
      const progress = new PassThrough();
      let log = '';
      progress.on('data', (chunk: Buffer) => (log += chunk.toString()));
      // When the org-wide playbook runs for the compromise window
      const result = await runSession({
        playbookFile: join(repoRoot, 'playbooks', 'compromised-action.yaml'),
        vars: { org: 'acme-robotics', action: 'tj-actions/changed-files@*', since: lab!.context.at('-2h').toISOString(), until: new Date().toISOString() },
        dryRun: false,
        yes: true,
        json: false,
        out,
        progress,
        provider: lab!.providerConfig,
      });

      // Then it ends verified, and found the one workflow that uses the action
      expect(result.exitCode, log).toBe(0);
      const status = new Map(result.steps.map((step) => [step.key, step.status]));
      expect(status.get('find')).toBe('verified');
      const journal = readJournal(join(result.runDir, 'journal.jsonl')).records;
      const findOutputs = journal.find((r) => r.type === 'step' && r.key === 'find' && r.phase === 'applied') as { result?: { outputs?: { workflows?: unknown } } } | undefined;
      expect(findOutputs?.result?.outputs?.workflows).toEqual([{ repo: 'acme-robotics/fleet-api', workflow: '.github/workflows/deploy.yml' }]);
      // And the workflow is disabled until the action is pinned
      const repo = lab!.github.state.repos.get('acme-robotics/fleet-api')!;
      expect(repo.workflows.find((w) => w.path === '.github/workflows/deploy.yml')!.state).toBe('disabled_manually');
      // And what the log printed is dead: the npm token revoked on the registry, the static AWS key deactivated
      expect(lab!.npm.tokens.filter((token) => token.revokedAt).map((token) => token.value)).toEqual(['npm_nDuvW4yrW81Aq1fEbVId8woPeX9PcWb8pm1b']);
      const fleetCi = [...lab!.aws.state.accounts.values()].flatMap((account) => [...account.users.values()]).find((user) => user.name === 'fleet-ci')!;
      expect(fleetCi.accessKeys.find((key) => key.id === 'AKIAHBRPOIGF3EXAMPLE')!.status).toBe('Inactive');
      // And only then was the exposing log deleted, a redacted copy and its hash kept in the run folder
      const seqOf = (key: string, phase: string) => journal.find((r) => r.type === 'step' && r.key === key && r.phase === phase)?.seq ?? Infinity;
      expect(seqOf('revoke-npm', 'verified')).toBeLessThan(seqOf('delete-logs', 'applied'));
      expect(seqOf('deactivate-keys[0]', 'verified')).toBeLessThan(seqOf('delete-logs', 'applied'));
      expect(repo.runs.find((run) => run.id === 9123456701)!.logs).toBeUndefined();
      const files = filesUnder(result.runDir);
      expect(files.some((file) => file.includes('9123456701'))).toBe(true);
      // And no value the lab holds appears in the journal, the evidence or the progress
      const secrets = [
        'npm_nDuvW4yrW81Aq1fEbVId8woPeX9PcWb8pm1b',
        '1C5Jau2RJtBRnlWmTSHf6pWkLUyifDEXAMPLEKEY',
        'ghs_EXAMPLEgithubTokenNotRealNotReal0000',
        lab!.npm.token,
        lab!.github.token,
      ];
      const texts = [log, ...files.filter((file) => existsSync(file)).map((file) => readFileSync(file).toString('latin1'))];
      for (const secret of secrets) expect(texts.some((text) => text.includes(secret)), `${secret.slice(0, 6)}… leaked`).toBe(false);
    });
  }, 60_000);
});
