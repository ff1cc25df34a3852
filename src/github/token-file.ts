import { readFile } from 'node:fs/promises';
import { Secret } from '../engine/secret.js';
import { UsageError } from '../engine/errors.js';

const cache = new Map<string, Secret[]>();

async function readStdin(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads leaked tokens from a file (`-` = stdin), one a line; blank lines and `#` comments are
 * skipped, duplicates dropped. Each token becomes a Secret at once, so nothing downstream can
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
  for (const line of text.split(/\r?\n/)) {
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
