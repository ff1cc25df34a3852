import { PassThrough } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { CreateAccessKeyCommand, DeleteAccessKeyCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { UsageError } from '../engine/errors.js';
import { ExitCode } from '../engine/exit-codes.js';
import type { Clients } from '../engine/context.js';
import { fingerprint } from '../engine/secret.js';
import { sealForGitHub, splitRepo } from '../github/api.js';
import { getPublicKey, putSecret } from '../github/secret-scope.js';
import type { ProviderConfig } from '../providers/config.js';
import type { Timeline } from '../report/model.js';
import { runContain } from '../ui/contain-session.js';
import { lineReporter } from '../ui/lines.js';
import { commandRuntime } from '../ui/runtime.js';
import type { DrillResult } from './index.js';
import { filesUnder, findLeaks, type KnownSecret } from './secrets.js';
import { scoreAttacks, scoreCredentials, scoreLeaks, scoreTimeToContain, type DrillAttack, type DrillCriterion } from './score.js';

/** The repository secrets the canary key is stored in (the sandbox workflow must read them). */
export const CANARY_KEY_ID_SECRET = 'CICD_IR_CANARY_AWS_ACCESS_KEY_ID';
export const CANARY_SECRET_KEY_SECRET = 'CICD_IR_CANARY_AWS_SECRET_ACCESS_KEY';

/** A drill against a real sandbox account and repository. */
export interface LiveDrillOptions {
  sandboxAccount: string;
  /** owner/name of the sandbox repository. */
  sandboxRepo: string;
  /** The sandbox workflow that reads the canary secrets (disabled by the containment). */
  workflow: string;
  /** The sandbox IAM user that carries the canary key (set up once, holds no permission). */
  canaryUser: string;
  sloMs: number;
  out?: string;
  playbookFile?: string;
  /** Endpoints and credentials; unset fields come from the environment (live). Tests: the lab's. */
  provider?: Pick<ProviderConfig, 'github' | 'aws'>;
}

/** What the detonation created, so cleanup removes exactly that and nothing else. */
interface Canary {
  /** Access key ids the drill created or the containment minted for the canary user. */
  keysBefore: Set<string>;
  secretsPut: string[];
  canaryKey?: { accessKeyId: string; secretAccessKey: string };
  cleanupProblems?: string[];
}

/**
 * Detonate: a fresh access key on the sandbox's canary user, stored in the sandbox repository's
 * secrets the sandbox workflow reads: the credential the "attacker" steals.
 */
async function detonate(clients: Clients, options: LiveDrillOptions, canary: Canary): Promise<void> {
  const iam = clients.iam();
  const before = await iam.send(new ListAccessKeysCommand({ UserName: options.canaryUser }));
  for (const key of before.AccessKeyMetadata ?? []) if (key.AccessKeyId) canary.keysBefore.add(key.AccessKeyId);
  const created = await iam.send(new CreateAccessKeyCommand({ UserName: options.canaryUser }));
  const key = created.AccessKey;
  if (!key?.AccessKeyId || !key.SecretAccessKey) throw new Error(`CreateAccessKey for ${options.canaryUser} returned no key`);
  canary.canaryKey = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
  const github = await clients.github();
  const scope = { kind: 'repo' as const, repo: options.sandboxRepo };
  const publicKey = await getPublicKey(github, scope);
  for (const [name, value] of [
    [CANARY_KEY_ID_SECRET, key.AccessKeyId],
    [CANARY_SECRET_KEY_SECRET, key.SecretAccessKey],
  ] as const) {
    canary.secretsPut.push(name);
    await putSecret(github, scope, name, { encrypted_value: await sealForGitHub(value, publicKey.key), key_id: publicKey.key_id });
  }
}

/**
 * Cleanup, always: every access key of the canary user the drill created (the canary and the
 * containment's replacement), and the repository secrets it put. Each part is attempted even if
 * another fails; what could not be removed is returned, by name, for the human.
 */
async function cleanup(clients: Clients, options: LiveDrillOptions, canary: Canary): Promise<string[]> {
  const problems: string[] = [];
  try {
    const iam = clients.iam();
    const keys = await iam.send(new ListAccessKeysCommand({ UserName: options.canaryUser }));
    for (const key of keys.AccessKeyMetadata ?? []) {
      if (!key.AccessKeyId || canary.keysBefore.has(key.AccessKeyId)) continue;
      try {
        await iam.send(new DeleteAccessKeyCommand({ UserName: options.canaryUser, AccessKeyId: key.AccessKeyId }));
      } catch (error) {
        problems.push(`access key ${key.AccessKeyId} of ${options.canaryUser}: ${(error as Error).message}`);
      }
    }
  } catch (error) {
    problems.push(`access keys of ${options.canaryUser}: ${(error as Error).message}`);
  }
  const { owner, repo } = splitRepo(options.sandboxRepo);
  for (const name of canary.secretsPut) {
    try {
      const github = await clients.github();
      await github.rest.actions.deleteRepoSecret({ owner, repo, secret_name: name });
    } catch (error) {
      if ((error as { status?: number }).status !== 404) problems.push(`secret ${options.sandboxRepo}/${name}: ${(error as Error).message}`);
    }
  }
  return problems;
}

/**
 * `drill --target live`: like Stratus Red Team's detonate/cleanup. Checks it is in the sandbox
 * account, detonates a canary key, runs the containment exactly as `contain` does (same code
 * path, real clients), plays the attacker (the stolen canary key must be refused), scores it,
 * and ALWAYS cleans up, after a failure too. `cleanupProblems` lists anything left behind.
 */
export async function runLiveDrill(options: LiveDrillOptions): Promise<DrillResult & { cleanupProblems: string[] }> {
  const started = Date.now();
  const provider: Pick<ProviderConfig, 'github' | 'aws'> = { github: options.provider?.github ?? {}, aws: options.provider?.aws ?? {} };
  const clients = await commandRuntime.createClients({ dryRun: false, incident: 'cicd-ir-drill-live', ...provider });
  const identity = await clients.sts().send(new GetCallerIdentityCommand({}));
  if (identity.Account !== options.sandboxAccount) {
    throw new UsageError(`--sandbox-account ${options.sandboxAccount}: the AWS credentials are in account ${identity.Account ?? 'unknown'}; refusing to detonate outside the sandbox`);
  }
  const canary: Canary = { keysBefore: new Set(), secretsPut: [] };
  let result: DrillResult;
  try {
    await detonate(clients, options, canary);
    const captured: string[] = [];
    const progress = new PassThrough();
    progress.on('data', (chunk: Buffer) => captured.push(chunk.toString('utf8')));
    const contain = await runContain(
      {
        repo: [options.sandboxRepo],
        workflow: options.workflow,
        'aws-user': options.canaryUser,
        'aws-key-id-secret': CANARY_KEY_ID_SECRET,
        'aws-secret-key-secret': CANARY_SECRET_KEY_SECRET,
        incident: `drill-live-${new Date(started).toISOString().slice(0, 19).replace(/[:T]/g, '-')}`,
        since: new Date(started - 3_600_000).toISOString(),
      },
      undefined,
      {
        ...(options.playbookFile && { playbookFile: options.playbookFile }),
        dryRun: false,
        yes: true,
        json: false,
        ...(options.out && { out: options.out }),
        provider,
        progress,
        reporter: lineReporter(progress),
      },
    );
    const report = JSON.parse(await readFile(contain.reports!.find((file) => file.endsWith('report.json'))!, 'utf8')) as Timeline;
    // The attacker: the stolen canary key, used after containment, must be refused.
    const stolen = canary.canaryKey!;
    let outcome: DrillAttack['outcome'] = 'success';
    let why = 'GetCallerIdentity succeeded';
    try {
      const sts = clients.stsWithCredentials?.(stolen);
      if (!sts) throw new Error('no STS client for other credentials');
      await sts.send(new GetCallerIdentityCommand({}));
    } catch (error) {
      outcome = 'denied';
      why = `denied (${(error as { name?: string }).name ?? 'error'})`;
    }
    const attacks: DrillAttack[] = [
      {
        step: 0,
        call: 'sts:GetCallerIdentity',
        credential: stolen.accessKeyId,
        outcome,
        expected: 'denied',
        passed: outcome === 'denied',
        detail: outcome === 'denied' ? `denied as it must be: ${why}` : 'the stolen canary key still works after containment',
      },
    ];
    const secrets: KnownSecret[] = [{ value: stolen.secretAccessKey, origin: 'the canary secret access key' }];
    const criteria: DrillCriterion[] = [scoreTimeToContain(report, options.sloMs), scoreCredentials(report, []), scoreAttacks(attacks, [], [])];
    const texts = [{ where: 'captured progress', text: captured.join('') }, { where: 'contain result', text: JSON.stringify(contain) }, ...(await filesUnder(contain.runDir))];
    criteria.push(scoreLeaks(findLeaks(texts, secrets), texts.length, secrets.length));
    const passed = criteria.every((c) => c.passed);
    result = {
      scenario: `live:${options.sandboxRepo}`,
      faults: 'none',
      passed,
      exitCode: passed ? ExitCode.Ok : ExitCode.StepFailed,
      runId: contain.runId,
      runDir: contain.runDir,
      reports: contain.reports ?? [],
      containExitCode: contain.exitCode,
      criteria,
      attacks: attacks.map((a) => ({ ...a, detail: a.detail.split(stolen.secretAccessKey).join(`[secret ${fingerprint(stolen.secretAccessKey)}]`) })),
      huntFindings: [],
      durationMs: Date.now() - started,
    };
  } finally {
    // Always, after a failure too: a drill must not leave a live credential behind.
    const problems = await cleanup(clients, options, canary);
    (clients as { destroy?: () => void }).destroy?.();
    if (problems.length) process.emitWarning(`drill cleanup left: ${problems.join('; ')}`);
    canary.cleanupProblems = problems;
  }
  const cleanupProblems = canary.cleanupProblems ?? [];
  if (cleanupProblems.length === 0) return { ...result, cleanupProblems };
  return { ...result, passed: false, exitCode: ExitCode.StepFailed, cleanupProblems };
}
