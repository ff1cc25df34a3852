import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../engine/errors.js';
import { loadPlaybook } from '../engine/playbook.js';
import { TOKEN_LINE, tokenLineProblem } from '../github/token-file.js';
import type { ProviderConfig } from '../providers/config.js';
import { commandRuntime, realClientsFactory } from './runtime.js';

/** What a run is about to use, as its command read it from flags (and the lab, when there is one). */
export interface PreflightInput {
  playbookFile: string;
  /** `--since` (contain) or `--var since=` (run, plan). */
  since?: string | undefined;
  /** `--tokens-file` (contain) or `--var tokens_file=` (run, plan). */
  tokensFile?: string | undefined;
  /** The provider settings the run will use (the lab's, or none: the environment's). */
  provider?: Pick<ProviderConfig, 'github' | 'aws'> | undefined;
  /** Resuming: the journal holds since and the tokens file, only credentials are checked. */
  resume?: boolean;
  env?: NodeJS.ProcessEnv;
  now?: Date;
}

/** A clock a few minutes ahead of ours is not a typo; an hour is. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Everything that can be checked before a run folder is opened or an API is called, each
 * refusal a UsageError (exit 2) that names the fix: `--since` in the past and with a zone, the
 * tokens file present and made of tokens (a `.env` would otherwise have every line sent to
 * GitHub and npm as a token to revoke, even in a dry run), and credentials for every provider
 * the playbook's steps use. Reads files and the environment only.
 */
export async function preflight(input: PreflightInput): Promise<void> {
  const env = input.env ?? process.env;
  if (!input.resume && input.since !== undefined) checkSince(input.since, input.now ?? new Date());
  if (!input.resume && input.tokensFile) checkTokensFile(input.tokensFile);
  // A factory a test or an in-process drill put in place brings its own credentials.
  if (commandRuntime.createClients !== realClientsFactory) return;
  const playbook = await loadPlaybook(input.playbookFile, { registry: commandRuntime.registry });
  const uses = new Set(playbook.steps.map((step) => step.uses.split('.')[0]));
  const provider = input.provider ?? { github: {}, aws: {} };
  if (uses.has('github')) await checkGitHubCredentials(provider, env);
  if (uses.has('aws') || uses.has('hunt')) await checkAwsCredentials(provider, env);
}

/** `--since`: ISO-8601 with a zone (a bare date or local time means a different window on every responder's laptop), not in the future. */
export function checkSince(since: string, now: Date): void {
  const zoned = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i.test(since.trim());
  if (!zoned) {
    throw new UsageError(`--since ${JSON.stringify(since.slice(0, 60))} has no time zone: the suspect window would depend on this machine's clock settings`, [
      `give it in UTC, e.g. --since ${new Date(now.getTime() - 86_400_000).toISOString().slice(0, 19)}Z`,
    ]);
  }
  const at = Date.parse(since.trim());
  if (Number.isNaN(at)) throw new UsageError(`--since ${JSON.stringify(since.slice(0, 60))} is not a real date and time`, ['e.g. --since 2026-11-25T14:00:00Z']);
  if (at > now.getTime() + CLOCK_SKEW_MS) {
    throw new UsageError(`--since ${since} is in the future (now ${now.toISOString()}): the window would hold nothing and the hunt would find nothing`, [
      'give the time the compromise may have started, before the first suspect run',
    ]);
  }
}

/**
 * The tokens file must exist and hold only tokens, one a line (blank lines and # comments
 * allowed). A wrong file is refused whole: a `.env` has every line sent as a token to revoke.
 * The refusal names line numbers, never a line's text (it may be a secret).
 */
export function checkTokensFile(path: string): void {
  if (path === '-') return; // stdin: read once, by the step
  if (!existsSync(path)) throw new UsageError(`--tokens-file ${path} does not exist`, ['give the file of leaked tokens, one a line (or - for stdin)']);
  if (!statSync(path).isFile()) throw new UsageError(`--tokens-file ${path} is not a file`);
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const bad = lines.flatMap((line, index) => {
    const problem = tokenLineProblem(line);
    return problem ? [`line ${index + 1} ${problem}`] : [];
  });
  if (bad.length > 0) {
    throw new UsageError(`--tokens-file ${path} is not a tokens file: ${bad.slice(0, 3).join('; ')}${bad.length > 3 ? `; and ${bad.length - 3} more line(s)` : ''}. Nothing was sent anywhere.`, [
      'put only the leaked token values in it, one a line (# comments allowed)',
    ]);
  }
  if (!lines.some((line) => TOKEN_LINE.test(line.trim()))) throw new UsageError(`--tokens-file ${path} holds no token`, ['put the leaked token values in it, one a line']);
}

async function checkGitHubCredentials(provider: Pick<ProviderConfig, 'github'>, env: NodeJS.ProcessEnv): Promise<void> {
  const { resolveGitHubAuth, systemAuthEnvironment } = await import('../providers/github.js');
  // Throws the UsageError with the three ways to give a credential (token, gh login, App).
  await resolveGitHubAuth({ dryRun: true, incident: 'preflight', github: provider.github, aws: {} }, { ...systemAuthEnvironment, env });
}

/** The AWS SDK's default chain, checked where it can be without a call: explicit keys, a profile, web identity, a container. */
async function checkAwsCredentials(provider: Pick<ProviderConfig, 'aws'>, env: NodeJS.ProcessEnv): Promise<void> {
  if (provider.aws.credentials) return;
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return;
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI) return;
  const profile = provider.aws.profile ?? env.AWS_PROFILE ?? 'default';
  const files = [env.AWS_CONFIG_FILE ?? join(homedir(), '.aws', 'config'), env.AWS_SHARED_CREDENTIALS_FILE ?? join(homedir(), '.aws', 'credentials')];
  const section = new RegExp(`^\\[\\s*(?:profile\\s+)?${profile.replace(/[^A-Za-z0-9_-]/g, (c) => `\\${c}`)}\\s*\\]`, 'm');
  if (files.some((file) => existsSync(file) && section.test(readFileSync(file, 'utf8')))) return;
  if (provider.aws.profile || env.AWS_PROFILE) {
    throw new UsageError(`AWS profile ${profile} is not in ${files.join(' or ')}`, ['check the name with `aws configure list-profiles`', 'or log in with `aws sso login --profile <name>`']);
  }
  // Last: an instance or task role, asked of the metadata service with a short timeout.
  if (env.AWS_EC2_METADATA_DISABLED !== 'true') {
    const { fromInstanceMetadata } = await import('@aws-sdk/credential-providers');
    const found = await fromInstanceMetadata({ timeout: 1_000, maxRetries: 0 })().then(
      () => true,
      () => false,
    );
    if (found) return;
  }
  throw new UsageError('no AWS credentials found', [
    'set AWS_PROFILE to a profile of ~/.aws/config (after `aws sso login` if it is an SSO profile)',
    'or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)',
    'or run where an instance, task or web-identity role provides them',
  ]);
}
