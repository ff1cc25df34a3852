import { expect } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { fingerprint } from '../../src/engine/secret.js';
import { startLab, type RunningLab, type StartLabOptions } from '../../src/lab/index.js';
import { DEV_ENTRY, repoRoot } from '../helpers/cli.js';

/** The scenario the crash and fault matrices contain (read-only here: the drill helper owns it). */
export const SCENARIO = join(repoRoot, 'scenarios/tj-actions-log-leak.yaml');
export const CONTAIN_PLAYBOOK = join(repoRoot, 'playbooks/contain-compromised-workflow.yaml');

/** Every --out folder this test file made (removed by removeTempOuts). */
const outDirs: string[] = [];

/** A fresh temporary folder, removed after the test file by removeTempOuts. */
export function tempOut(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `cicd-ir-rel-${prefix}-`));
  outDirs.push(dir);
  return dir;
}

/** Removes every folder tempOut made in this file (call it from afterAll). */
export function removeTempOuts(): void {
  for (const dir of outDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * The environment that points the real CLI (no --lab) at a lab running in the test process:
 * the same variables a responder would set for GHES and AWS endpoints. Ambient credentials
 * and config files of the machine are cut off so nothing can reach a real account.
 */
export function labEnv(lab: RunningLab): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(AWS_|GH_|GITHUB_|NPM_|npm_config_)/.test(key)) continue;
    env[key] = value;
  }
  const creds = lab.aws.responderCredentials;
  return {
    ...env,
    NO_COLOR: '1',
    GITHUB_API_URL: lab.endpoints.github,
    GH_TOKEN: lab.github.token,
    AWS_ENDPOINT_URL_IAM: lab.endpoints.iam,
    AWS_ENDPOINT_URL_STS: lab.endpoints.sts,
    AWS_ENDPOINT_URL_CLOUDTRAIL: lab.endpoints.cloudtrail,
    AWS_ENDPOINT_URL_ORGANIZATIONS: lab.endpoints.organizations,
    AWS_ENDPOINT_URL_ACCOUNT: lab.endpoints.account,
    AWS_ENDPOINT_URL_EC2: lab.endpoints.ec2,
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    // The lab's npm registry and the responder's token on it (as `lab serve` prints them).
    NPM_CONFIG_REGISTRY: lab.endpoints.npm,
    NPM_TOKEN: lab.npm.token,
    NPM_CONFIG_USERCONFIG: '/dev/null',
  };
}

/** The flags `contain --lab` would take from the scenario's incident block, given explicitly. */
export function incidentFlags(lab: RunningLab): string[] {
  const incident = lab.scenario.incident;
  if (!incident) throw new Error('scenario has no incident block');
  const flags = ['--workflow', incident.workflow, '--incident', lab.scenario.name];
  for (const repo of incident.repos) flags.push('--repo', repo);
  for (const role of incident.roles ?? []) flags.push('--role', role);
  if (incident.since) flags.push('--since', lab.context.at(incident.since).toISOString());
  if (incident.aws_user) flags.push('--aws-user', incident.aws_user);
  for (const name of incident.npm_packages) flags.push('--npm-package', name);
  if (incident.npm_release_workflow) flags.push('--npm-release-workflow', incident.npm_release_workflow);
  return flags;
}

/** A CLI process in flight: kill it, or wait for it. */
export interface CliProcess {
  readonly pid: number;
  kill(): void;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Spawns `cicd-ir ARGS` from the sources in the repository root. */
export function spawnCliAsync(args: string[], env: NodeJS.ProcessEnv): CliProcess {
  const child = spawn(process.execPath, [DEV_ENTRY, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { pid: child.pid!, kill: () => void child.kill('SIGKILL'), done };
}

/**
 * The shipped containment playbook without its CloudTrail hunt (and the key deactivation that
 * depends on it): LookupEvents is paced at AWS's 2 requests/second, 12 s per run, which would
 * make a 20-point matrix minutes long. Derived from the shipped file at test time so it
 * cannot drift. One matrix case keeps the full playbook to cover a crash inside the hunt.
 */
/**
 * What `contain` with containWithoutHunt's playbook ends with when everything else is closed:
 * the containment verdict keeps the missing CloudTrail hunt open (AWS credentials were in play
 * and nothing said whether they were used), so exit 3 with that one item and nothing else.
 */
export function onlyTheHuntOpen(run: { code: number | null; stdout: string; stderr: string }): void {
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(3);
  expect(run.stdout).toMatch(/NOT CONTAINED YET: 1 open item\(s\) need a human \(exit 3\):\n {2}\[high\] No CloudTrail hunt ran/);
}

export function containWithoutHunt(dir: string): string {
  const doc = parse(readFileSync(CONTAIN_PLAYBOOK, 'utf8')) as { steps: { id: string }[] };
  doc.steps = doc.steps.filter((step) => step.id !== 'hunt' && step.id !== 'deactivate-minted');
  const file = join(dir, 'contain-no-hunt.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

/** The only run folder under `out` (a crash matrix case makes one run). */
export function runDir(out: string): { id: string; dir: string; journal: string } | undefined {
  if (!existsSync(out)) return undefined;
  const ids = readdirSync(out).filter((name) => statSync(join(out, name)).isDirectory());
  if (ids.length === 0) return undefined;
  if (ids.length > 1) throw new Error(`expected one run under ${out}, found ${ids.join(', ')}`);
  const dir = join(out, ids[0]!);
  return { id: ids[0]!, dir, journal: join(dir, 'journal.jsonl') };
}

/** Complete lines in the journal now (0 when it does not exist yet). */
export function journalLines(out: string): number {
  const run = runDir(out);
  if (!run || !existsSync(run.journal)) return 0;
  const text = readFileSync(run.journal, 'utf8');
  let lines = 0;
  for (let i = 0; i < text.length; i += 1) if (text.charCodeAt(i) === 10) lines += 1;
  return lines;
}

/** Starts a lab in this process for the scenario. */
export function labFor(options: StartLabOptions = {}, scenario = SCENARIO): Promise<RunningLab> {
  return startLab(scenario, options);
}

/** Mutating requests the lab served with a 2xx, counted by `service method operation`. */
export function mutationCounts(lab: RunningLab): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of lab.requests()) {
    if (!request.mutating || request.status >= 300 || request.fault) continue;
    // GitHub's operation is already `METHOD /route`; AWS's is the Action name (always POST).
    const key = request.service === 'github' ? request.operation : `${request.service} ${request.operation}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g;

/**
 * The end state containment is judged on, with the cutoff timestamps (which differ between any
 * two runs) masked: workflow states, run statuses, role trust and inline policies, each user's
 * keys (scenario key vs minted, status), and which secrets were changed and whether they hold
 * the user's active key.
 */
export function worldOf(lab: RunningLab): unknown {
  const github = [...lab.github.state.repos.values()].map((repo) => ({
    repo: repo.fullName,
    workflows: repo.workflows.map((w) => [w.path, w.state]),
    runs: repo.runs.map((r) => [r.id, r.status, r.conclusion]),
    secrets: [...repo.secrets.values()].map((s) => [s.name, s.puts > 0 ? 'changed' : 'unchanged', secretHolds(lab, s.fingerprint)]),
  }));
  const aws = [...lab.aws.state.accounts.values()].map((account) => ({
    account: account.id,
    roles: [...account.roles.values()].map((role) => ({
      name: role.name,
      trust: role.trustPolicy.replace(ISO, '<time>'),
      inline: [...role.inlinePolicies.entries()].map(([name, doc]) => [name, doc.replace(ISO, '<time>')]),
    })),
    users: [...account.users.values()].map((user) => ({
      name: user.name,
      keys: user.accessKeys.map((key) => [key.origin === 'scenario' ? 'scenario' : 'minted', key.status]).sort(),
    })),
  }));
  // The npm registry: which of its tokens still work, which run logs are still there, which caches.
  // (the responder's own token is minted per lab start: named, not keyed)
  const npm = lab.npm.tokens.map((token) => [token.value === lab.npm.token ? 'responder' : token.key.slice(0, 12), token.revokedAt ? 'revoked' : 'live']).sort();
  const logs = [...lab.github.state.repos.values()].flatMap((repo) => repo.runs.map((run) => [run.id, Object.keys(run.logs ?? {}).length > 0 ? 'logs' : 'no logs']));
  return { github, aws, npm, logs };
}

/** Which IAM key a secret's fingerprint matches: its id or secret, and whether the key is active. */
function secretHolds(lab: RunningLab, secretFingerprint: string): string {
  for (const account of lab.aws.state.accounts.values()) {
    for (const user of account.users.values()) {
      for (const key of user.accessKeys) {
        if (fingerprint(key.id) === secretFingerprint) return `${user.name} key id (${key.status})`;
        if (fingerprint(key.secret) === secretFingerprint) return `${user.name} secret key (${key.status})`;
      }
    }
  }
  return 'other';
}

/** Every secret value the lab holds or minted: keys of every user, the lab token, the responder's key. */
export function labSecrets(lab: RunningLab): string[] {
  const values = [lab.github.token, lab.aws.responderCredentials.secretAccessKey];
  for (const account of lab.aws.state.accounts.values()) for (const user of account.users.values()) for (const key of user.accessKeys) values.push(key.secret);
  for (const session of lab.aws.state.sessions.values()) {
    values.push(session.secret, session.sessionToken);
  }
  for (const repo of lab.github.state.repos.values()) for (const secret of repo.secrets.values()) values.push(secret.value.reveal());
  for (const org of lab.github.state.orgs.values()) for (const secret of org.secrets.values()) values.push(secret.value.reveal());
  // Access key ids are identifiers, not secrets (the product names them in findings, and the
  // playbook stores the id with allow_plaintext): a secret holding one is not searched for.
  return [...new Set(values.filter((value) => value && value.length >= 8 && !/^A[KS]IA[A-Z0-9]{16}$/.test(value)))];
}

/** Secret values found in `text`, shortened to a prefix for the failure message. */
export function leaksIn(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((secret) => text.includes(secret)).map((secret) => `${secret.slice(0, 4)}…`);
}
