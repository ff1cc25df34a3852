/**
 * Credential formats the log scanner knows, as data. Each detector is a global regex over one
 * line of log text (timestamps already stripped) plus how to name and preview what it matched.
 * Pure: no I/O, no state; the line scanner (scanner.ts) decides order, overlap and context.
 */

/** What a hit is; `family` says who rotates it. */
export type HitKind =
  | 'github-pat'
  | 'github-fine-grained-pat'
  | 'github-oauth-token'
  | 'github-user-token'
  | 'github-app-token'
  | 'github-refresh-token'
  | 'npm-token'
  | 'aws-access-key-id'
  | 'aws-secret-access-key'
  | 'private-key'
  | 'slack-token'
  | 'jwt'
  | 'google-api-key'
  | 'stripe-live-key'
  | 'runner-secret'
  | 'generic-secret';

/** Who rotates a kind: GitHub tokens go to github.revoke-tokens, AWS keys to key rotation, the rest is manual. */
export type HitFamily = 'github' | 'npm' | 'aws' | 'other';

export function familyOf(kind: HitKind): HitFamily {
  if (kind.startsWith('github-')) return 'github';
  if (kind === 'npm-token') return 'npm';
  if (kind === 'aws-access-key-id' || kind === 'aws-secret-access-key') return 'aws';
  return 'other';
}

export interface Detector {
  kind: HitKind | ((value: string) => HitKind);
  /** Global regex; the value is group 1 when present, else the whole match. */
  regex: RegExp;
  /** The public part of the format kept in previews (`ghp_`, `AKIA`): never any of the random part. */
  prefix(value: string): string;
}

const GITHUB_PREFIX_KIND: Record<string, HitKind> = {
  ghp_: 'github-pat',
  gho_: 'github-oauth-token',
  ghu_: 'github-user-token',
  ghs_: 'github-app-token',
  ghr_: 'github-refresh-token',
};

/**
 * Known token formats, most specific first. Lengths follow the vendors' published formats with
 * some slack (GitHub: "tokens may grow up to 255 characters"; fine-grained PATs are 93 today).
 */
export const KNOWN_DETECTORS: readonly Detector[] = [
  { kind: 'github-fine-grained-pat', regex: /\bgithub_pat_[A-Za-z0-9_]{22,244}\b/g, prefix: () => 'github_pat_' },
  { kind: (value) => GITHUB_PREFIX_KIND[value.slice(0, 4)] ?? 'github-pat', regex: /\bgh[pousr]_[A-Za-z0-9]{36,251}\b/g, prefix: (value) => value.slice(0, 4) },
  { kind: 'npm-token', regex: /\bnpm_[A-Za-z0-9]{36}\b/g, prefix: () => 'npm_' },
  { kind: 'aws-access-key-id', regex: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, prefix: (value) => value.slice(0, 4) },
  { kind: 'slack-token', regex: /\bxox[bpars]-[A-Za-z0-9-]{10,250}/g, prefix: (value) => value.slice(0, 5) },
  { kind: 'google-api-key', regex: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g, prefix: () => 'AIza' },
  { kind: 'stripe-live-key', regex: /\b[sr]k_live_[0-9A-Za-z]{24,247}\b/g, prefix: (value) => value.slice(0, 8) },
  { kind: 'jwt', regex: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, prefix: () => 'eyJ' },
];

/** A private key block on one line (JSON-escaped `\n`, or a dump that lost its newlines). */
export const INLINE_PRIVATE_KEY = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----(?:\\[nr]|\s|[A-Za-z0-9+/=:,-])*?-----END \1PRIVATE KEY-----/g;
export const PRIVATE_KEY_BEGIN = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----/;
export const PRIVATE_KEY_END = /-----END ((?:[A-Z0-9]+ )*)PRIVATE KEY-----/;

/**
 * The runner's secret entries as the tj-actions / reviewdog payloads printed them from
 * Runner.Worker memory: `"NAME":{"value":"...","isSecret":true}`. Group 1: the name (if any),
 * group 2: the JSON-escaped value.
 */
export const RUNNER_SECRET = /(?:"([^"\\]{1,200})"\s*:\s*\{\s*)?"value"\s*:\s*"((?:[^"\\]|\\.){1,20000})"\s*,\s*"isSecret"\s*:\s*true/g;

/** A 40-character AWS secret access key (base64 alphabet, no `=`), confirmed by context in scanner.ts. */
export const AWS_SECRET_CANDIDATE = /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
/** Words that say the 40 characters next to them are an AWS secret key. */
export const AWS_SECRET_CONTEXT = /aws_?secret|secret_?access_?key|SecretAccessKey/i;

/**
 * `NAME=value`, `name: value`, `"name": "value"` where the name says secret. The value is kept
 * only if it clears the entropy threshold (scanner.ts), so `token: ***` or `password: changeme` pass.
 */
export const GENERIC_ASSIGNMENT =
  /([A-Za-z0-9_.-]*(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|auth)[A-Za-z0-9_.-]*)["']?\s*[:=]\s*["']?([A-Za-z0-9_\-+/=.~!@#$%^&*]{12,512})/gi;

/** Shannon entropy of a string, in bits per character. */
export function shannonEntropy(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** `ghp_****…(40)`: the format's public prefix, then only the length. */
export function previewOf(prefix: string, value: string): string {
  return `${prefix}****…(${value.length})`;
}
