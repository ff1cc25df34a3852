import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Restore from '../../src/commands/restore.js';
import { UsageError } from '../../src/engine/errors.js';
import { readJournal, type JournalRecord } from '../../src/engine/journal.js';
import { startLab, type RunningLab } from '../../src/lab/index.js';
import { runContain, type ContainFlags } from '../../src/ui/contain-session.js';
import { runCommand } from '../helpers/cli.js';
import { labEnv, spawnCliAsync } from '../reliability/harness.js';

// Resume continues the run as it was started: the journalled inputs (never re-derived defaults),
// against the endpoints it was started against (never a lab run against the real world).

const SCENARIO = new URL('../../scenarios/tj-actions-log-leak.yaml', import.meta.url).pathname;
const GRAFANA = new URL('../../scenarios/grafana-missed-credential.yaml', import.meta.url).pathname;
const SINCE = '2026-11-25T14:00:00Z';

let lab: RunningLab;
const dirs: string[] = [];
const tempRoot = () => {
  const dir = mkdtempSync(join(tmpdir(), 'cicd-ir-resume-'));
  dirs.push(dir);
  return dir;
};

beforeAll(async () => {
  lab = await startLab(SCENARIO);
});
afterAll(async () => {
  await lab.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A dry run (read-only steps run, nothing changes): quick, and as resumable as any run. */
const session = (out: string) => ({ dryRun: true, yes: true, json: true, out, reporter: null });

/** The flags a responder types for the tj incident, pointed at the lab's endpoints as `lab serve` prints them. */
const REAL_FLAGS: ContainFlags = {
  repo: ['acme-robotics/fleet-api'],
  workflow: 'deploy.yml',
  role: ['deploy'],
  since: SINCE,
  incident: 'IR-resume',
  'aws-user': 'fleet-ci',
};

const runStarts = (out: string, id: string) =>
  readJournal(join(out, id, 'journal.jsonl')).records.filter((r): r is Extract<JournalRecord, { type: 'run-start' }> => r.type === 'run-start');

const onlyRun = (out: string) => readdirSync(out)[0]!;

describe('contain --resume reuses the journalled inputs', () => {
  it('keeps --role and --since when they are not given again', async () => {
    // Given a run started with --role deploy and --since, against endpoints from the environment (no --lab)
    const out = tempRoot();
    const first = await runContain(REAL_FLAGS, undefined, { ...session(out), provider: lab.providerConfig });
    // When it is resumed with only --resume
    const resumed = await runContain({ resume: first.runId }, undefined, { ...session(out), provider: lab.providerConfig });
    // Then the resumed run's inputs are the journalled ones: the role is kept and since is not "24 hours ago"
    expect(resumed.runId).toBe(first.runId);
    const [then, now] = runStarts(out, first.runId);
    expect(now!.inputs).toEqual(then!.inputs);
    expect(now!.inputs).toMatchObject({ roles: ['deploy'], since: '2026-11-25T14:00:00.000Z', aws_user: 'fleet-ci', incident: 'IR-resume' });
    expect(now!.incident).toBe('IR-resume');
    // And the journal records where the run went
    expect(then!.target).toMatchObject({ github: lab.endpoints.github, aws: expect.stringContaining(`iam=${lab.endpoints.iam}`) });
    expect(then!.target!.lab).toBeUndefined();
  });

  it('accepts a flag given again with the same value (in another spelling) and refuses a different one with exit 2, before any API call', async () => {
    // Given a run started with --role deploy and --since
    const out = tempRoot();
    const first = await runContain(REAL_FLAGS, undefined, { ...session(out), provider: lab.providerConfig });
    // When resumed with the same since written with milliseconds: accepted
    await runContain({ resume: first.runId, since: '2026-11-25T14:00:00.000Z' }, undefined, { ...session(out), provider: lab.providerConfig });
    // When resumed with another --role and another --since
    const before = lab.requests().length;
    const refused = runContain({ resume: first.runId, role: ['other'], since: '2026-11-26T00:00:00Z' }, undefined, { ...session(out), provider: lab.providerConfig });
    // Then refused with exit 2, naming each flag and both values, and no request reached an endpoint
    const error = await refused.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as Error).message).toContain('--role: ["deploy"] in the journal, ["other"] given');
    expect((error as Error).message).toContain('--since: "2026-11-25T14:00:00.000Z" in the journal, "2026-11-26T00:00:00.000Z" given');
    expect(lab.requests().length).toBe(before);
    expect(runStarts(out, first.runId)).toHaveLength(2);
  });
});

describe('a run is tied to its endpoints', () => {
  it('never resumes a lab run against the real endpoints, and --latest without --lab never picks it', async () => {
    // Given a run made in the lab
    const out = tempRoot();
    const first = await runContain({}, lab, session(out));
    expect(runStarts(out, first.runId)[0]!.target!.lab).toMatchObject({ scenario: SCENARIO, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const before = lab.requests().length;
    // When it is resumed without --lab (the real GitHub and AWS), by id or as the latest run
    const byId = await runContain({ resume: first.runId }, undefined, session(out)).catch((e: unknown) => e);
    const latest = await runContain({ latest: true }, undefined, session(out)).catch((e: unknown) => e);
    // Then both are refused with exit 2 and nothing was called
    expect(byId).toBeInstanceOf(UsageError);
    expect((byId as Error).message).toMatch(/was made in the lab .*refusing to resume it against the real endpoints \(GitHub https:\/\/api\.github\.com/);
    expect(latest).toBeInstanceOf(UsageError);
    expect((latest as Error).message).toMatch(/no real-endpoint \(non-lab\) run to resume/);
    expect(lab.requests().length).toBe(before);
    // And the same lab instance can still resume it (in-process: the drill, tests)
    await expect(runContain({ latest: true }, lab, session(out))).resolves.toMatchObject({ runId: first.runId });
  });

  it('refuses a real run in the lab, a lab run in another scenario, and a run of an earlier lab instance', async () => {
    // Given a run against endpoints from the environment, and a lab run
    const out = tempRoot();
    const real = await runContain(REAL_FLAGS, undefined, { ...session(out), provider: lab.providerConfig });
    const labRun = await runContain({}, lab, session(out));
    const other = await startLab(GRAFANA);
    const fresh = await startLab(SCENARIO);
    try {
      // When each is resumed in the wrong world
      const inLab = await runContain({ resume: real.runId }, lab, session(out)).catch((e: unknown) => e);
      const otherScenario = await runContain({ resume: labRun.runId }, other, session(out)).catch((e: unknown) => e);
      const freshLab = await runContain({ resume: labRun.runId }, fresh, session(out)).catch((e: unknown) => e);
      // Then each is refused (exit 2) with its reason, and neither other lab served a request
      expect((inLab as UsageError).exitCode).toBe(2);
      expect((inLab as Error).message).toMatch(/was made against real endpoints .*refusing to resume it in the lab/);
      expect((otherScenario as Error).message).toMatch(/was made in the lab of scenario .*tj-actions-log-leak\.yaml .*not .*grafana-missed-credential\.yaml/);
      expect((freshLab as UsageError).exitCode).toBe(2);
      expect((freshLab as Error).message).toMatch(/earlier lab instance .*its world was in memory and is gone/);
      expect(other.requests()).toEqual([]);
      expect(fresh.requests()).toEqual([]);
    } finally {
      await Promise.all([other.close(), fresh.close()]);
    }
  });

  it('cicd-ir restore of a lab run against the real endpoints exits 2 before any call', async () => {
    // Given a lab run
    const out = tempRoot();
    const labRun = await runContain({}, lab, session(out));
    const before = lab.requests().length;
    // When restore is asked to undo it (no lab endpoints in this process's environment)
    const outcome = await runCommand(Restore, [labRun.runId, '--out', out, '--dry-run']);
    // Then it is refused: its trust documents must never land on real roles of the same names
    expect(outcome.exitCode).toBe(2);
    expect(outcome.stderr).toMatch(/was made in the lab .*refusing to restore it against the real endpoints/);
    expect(lab.requests().length).toBe(before);
  });

  it('cicd-ir contain --resume of a lab run without --lab exits 2 naming why', async () => {
    // Given a lab run
    const out = tempRoot();
    await runContain({}, lab, session(out));
    // When the CLI resumes it with the lab's endpoints gone from the environment
    const env = { ...labEnv(lab), GITHUB_API_URL: '', AWS_ENDPOINT_URL_IAM: '', AWS_ENDPOINT_URL_STS: '', AWS_ENDPOINT_URL_CLOUDTRAIL: '', NPM_CONFIG_REGISTRY: '' };
    for (const key of Object.keys(env)) if (env[key] === '') delete env[key];
    const before = lab.requests().length;
    const cli = await spawnCliAsync(['contain', '--resume', onlyRun(out), '--dry-run', '--out', out], env).done;
    // Then exit 2 with the reason, and no call was made
    expect(cli.code, cli.stderr).toBe(2);
    expect(cli.stderr).toMatch(/was made in the lab/);
    expect(lab.requests().length).toBe(before);
  });
});
