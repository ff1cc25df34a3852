import { readFile } from 'node:fs/promises';
import { Secret } from '../engine/secret.js';
import { UsageError } from '../engine/errors.js';

/** Token shapes a tokens file may hold: GitHub PATs, OAuth, App and refresh tokens, classic 40-hex; npm tokens (npm_ or legacy UUID). */
export const TOKEN_LINE = /^(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{40,255}|[0-9a-f]{40}|npm_[A-Za-z0-9]{36}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** Why a line of a tokens file is not a token, or undefined when it is one (or blank / a comment). */
export function tokenLineProblem(line: string): string | undefined {
  const value = line.trim();
  if (value === '' || value.startsWith('#') || TOKEN_LINE.test(value)) return undefined;
  if (/^(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=/.test(value)) return 'is a NAME=value assignment (a .env or shell file?)';
  if (/\s/.test(value)) return 'holds spaces (prose, a config file?)';
  return 'is not a GitHub token (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_, 40 hex) or an npm token (npm_, UUID)';
}

const cache = new Map<string, Secret[]>();

async function readStdin(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads leaked tokens from a file (`-` = stdin), one a line; blank lines and `#` comments are
 * skipped, duplicates dropped; a line that is not a token refuses the whole file. Each token becomes a Secret at once, so nothing downstream can
 * print it. Never from a flag or a playbook (shell history, journals). Read once per process
 * and path: plan and apply see the same list, and stdin can only be read once.
 */
export async function readTokenFile(path: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<Secret[]> {
  const cached = cache.get(path);
  if (cached) return cached;
  let text: string;
  try {
    text = path === '-' ? await readStdin(stdin) : await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read tokens from ${path}: ${(error as Error).message}`);
  }
  const seen = new Set<string>();
  const tokens: Secret[] = [];
  const lines = text.split(/\r?\n/);
  // A wrong file (a .env) is refused whole, before any line is used: naming line numbers, never text.
  const bad = lines.flatMap((line, index) => (tokenLineProblem(line) ? [index + 1] : []));
  if (bad.length > 0) throw new UsageError(`${path} is not a tokens file: line(s) ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', ...' : ''} are not tokens`, ['put only the leaked token values in it, one a line']);
  for (const line of lines) {
    const value = line.trim();
    if (value === '' || value.startsWith('#') || seen.has(value)) continue;
    seen.add(value);
    tokens.push(new Secret(value, 'leaked GitHub token'));
  }
  text = '';
  cache.set(path, tokens);
  return tokens;
}

/** A token value a revoking step holds, and where it came from. */
export interface HeldSecret {
  secret: Secret;
  source: 'file' | 'scan';
}

/**
 * The token values a revoking step holds: those of the tokens file (if any), then those an
 * earlier step handed over as Secrets (a log scan), each value once (by fingerprint).
 */
export async function heldSecrets(tokensFile: string | undefined, leaked: readonly Secret[]): Promise<HeldSecret[]> {
  const seen = new Set<string>();
  const out: HeldSecret[] = [];
  const add = (secret: Secret, source: HeldSecret['source']) => {
    if (!seen.has(secret.fingerprint)) out.push({ secret, source }), seen.add(secret.fingerprint);
  };
  for (const secret of tokensFile ? await readTokenFile(tokensFile) : []) add(secret, 'file');
  for (const secret of leaked) add(secret, 'scan');
  return out;
}
