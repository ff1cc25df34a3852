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
  | 'pypi-token'
  | 'dockerhub-token'
  | 'gitlab-token'
  | 'openai-key'
  | 'azure-sas-token'
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

/**
 * Who issued each kind and how it is closed: what the report and `scan` tell the responder. The
 * GitHub, npm and AWS kinds are closed by the containment's own steps; the others by a human at
 * the provider (no API cicd-ir drives).
 */
export const PROVIDER_OF: Record<HitKind, { provider: string; close: string }> = {
  'github-pat': { provider: 'GitHub', close: 'github.revoke-tokens (POST /credentials/revoke)' },
  'github-fine-grained-pat': { provider: 'GitHub', close: 'github.revoke-tokens (POST /credentials/revoke)' },
  'github-oauth-token': { provider: 'GitHub', close: 'github.revoke-tokens (POST /credentials/revoke)' },
  'github-user-token': { provider: 'GitHub', close: 'github.revoke-tokens (POST /credentials/revoke)' },
  'github-app-token': { provider: 'GitHub', close: 'dies with its job (an installation token lives at most 1 h)' },
  'github-refresh-token': { provider: 'GitHub', close: "revoke the app's authorization (Settings > Applications)" },
  'npm-token': { provider: 'npm', close: 'npm.revoke-token' },
  'aws-access-key-id': { provider: 'AWS', close: 'aws.deactivate-access-key / aws.rotate-access-key' },
  'aws-secret-access-key': { provider: 'AWS', close: "deactivate its key id (aws.deactivate-access-key)" },
  'private-key': { provider: 'the key owner (deploy key, GitHub App, GCP service account, ...)', close: 'delete the key where it is registered and issue a new one' },
  'slack-token': { provider: 'Slack', close: 'revoke in the Slack app settings (auth.revoke)' },
  jwt: { provider: 'the issuer named in its payload', close: 'revoke the session or rotate the signing key at the issuer' },
  'google-api-key': { provider: 'Google Cloud', close: 'delete or regenerate the key (APIs & Services > Credentials)' },
  'stripe-live-key': { provider: 'Stripe', close: 'roll the key in the Stripe dashboard' },
  'pypi-token': { provider: 'PyPI', close: 'remove the token (pypi.org > Account settings > API tokens)' },
  'dockerhub-token': { provider: 'Docker Hub', close: 'delete the access token (Account settings > Personal access tokens)' },
  'gitlab-token': { provider: 'GitLab', close: 'revoke the token (User or project settings > Access tokens)' },
  'openai-key': { provider: 'OpenAI', close: 'delete the key (platform API keys page)' },
  'azure-sas-token': { provider: 'Azure Storage', close: 'rotate the storage account key that signed it, or revoke its stored access policy' },
  'runner-secret': { provider: 'whoever issued the value (a GitHub Actions secret printed by the runner)', close: 'rotate it at its issuer, then update the secret' },
  'generic-secret': { provider: 'unknown (an entropy guess)', close: 'a human checks whether it is a credential' },
};

export interface Detector {
  kind: HitKind | ((value: string) => HitKind);
  /**
   * Every match in a line, left to right, not overlapping. Log lines are attacker text: each
   * finder runs in time linear in the line (a bounded regex, or a hand scan where a regex
   * would backtrack).
   */
  find(text: string): Iterable<TextMatch>;
  /** The public part of the format kept in previews (`ghp_`, `AKIA`): never any of the random part. */
  prefix(value: string): string;
}

/** One match of a finder: where it starts and the matched text. */
export interface TextMatch {
  index: number;
  value: string;
}

/**
 * A global regex as a finder. Only for regexes whose every quantifier over the line is bounded
 * (`{36,251}`) or cannot backtrack: an unbounded run followed by a literal that may be missing
 * restarts at every position and turns quadratic on a crafted line.
 */
function regexFinder(regex: RegExp): (text: string) => Iterable<TextMatch> {
  return function* (text) {
    for (const match of text.matchAll(regex)) yield { index: match.index, value: match[0] };
  };
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
  { kind: 'github-fine-grained-pat', find: regexFinder(/\bgithub_pat_[A-Za-z0-9_]{22,244}\b/g), prefix: () => 'github_pat_' },
  { kind: (value) => GITHUB_PREFIX_KIND[value.slice(0, 4)] ?? 'github-pat', find: regexFinder(/\bgh[pousr]_[A-Za-z0-9]{36,251}\b/g), prefix: (value) => value.slice(0, 4) },
  { kind: 'npm-token', find: regexFinder(/\bnpm_[A-Za-z0-9]{36}\b/g), prefix: () => 'npm_' },
  { kind: 'aws-access-key-id', find: regexFinder(/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g), prefix: (value) => value.slice(0, 4) },
  { kind: 'slack-token', find: regexFinder(/\bxox[bpars]-[A-Za-z0-9-]{10,250}/g), prefix: (value) => value.slice(0, 5) },
  { kind: 'google-api-key', find: regexFinder(/\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g), prefix: () => 'AIza' },
  { kind: 'stripe-live-key', find: regexFinder(/\b[sr]k_live_[0-9A-Za-z]{24,247}\b/g), prefix: (value) => value.slice(0, 8) },
  // PyPI API tokens are macaroons whose base64 starts with the fixed `pypi.org` location.
  { kind: 'pypi-token', find: regexFinder(/\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1000}/g), prefix: () => 'pypi-' },
  { kind: 'dockerhub-token', find: regexFinder(/\bdckr_pat_[A-Za-z0-9_-]{27,100}/g), prefix: () => 'dckr_pat_' },
  { kind: 'gitlab-token', find: regexFinder(/\bgl(?:pat|dt|rt|ptt|cbt|oas)-[A-Za-z0-9_-]{20,100}/g), prefix: (value) => value.slice(0, value.indexOf('-') + 1) },
  // OpenAI keys carry `T3BlbkFJ` (base64 of "OpenAI") in the middle; both runs are bounded.
  { kind: 'openai-key', find: regexFinder(/\bsk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}/g), prefix: (value) => value.slice(0, value.startsWith('sk-proj-') ? 8 : 3) },
  // An Azure shared access signature: the `sig` of a URL that also has the SAS version `sv=`.
  { kind: 'azure-sas-token', find: findAzureSas, prefix: () => 'sig=' },
  { kind: 'jwt', find: findJwts, prefix: () => 'eyJ' },
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

/** A name that says secret (the generic assignment's name must contain one of these). */
const SECRET_WORD = /secret|token|passw(?:or)?d|pwd|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|auth/i;
/** How much of a long name a generic hit keeps: the part next to the `=` is what names it. */
const NAME_KEEP = 256;
const VALUE_MIN = 12;
const VALUE_MAX = 512;

function charTable(chars: string): Uint8Array {
  const table = new Uint8Array(128);
  for (const char of chars) table[char.charCodeAt(0)] = 1;
  return table;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const NAME_CHAR = charTable(`${ALNUM}_.-`);
const VALUE_CHAR = charTable(`${ALNUM}_-+/=.~!@#$%^&*`);
const JWT_CHAR = charTable(`${ALNUM}_-`);
const WORD_CHAR = charTable(`${ALNUM}_`);

function isIn(table: Uint8Array, text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  return code < 128 && table[code] === 1;
}

/** `\s` of a JavaScript regex: ASCII white space and the Unicode space separators. */
function isSpace(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  if (code < 128) return code === 32 || (code >= 9 && code <= 13);
  return code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff;
}

/** The end of the run of `table` characters starting at `index` (at most `limit` characters long). */
function runEnd(table: Uint8Array, text: string, index: number, limit = text.length): number {
  const stop = Math.min(text.length, index + limit);
  let end = index;
  while (end < stop && isIn(table, text, end)) end += 1;
  return end;
}

/** One `NAME=value` hit: the name as written (its last NAME_KEEP characters) and the value. */
export interface AssignmentMatch extends TextMatch {
  name: string;
}

/**
 * `NAME=value`, `name: value`, `"name": "value"` where the name says secret: what the regex
 * `([A-Za-z0-9_.-]*(?:secret|token|...)[A-Za-z0-9_.-]*)["']?\s*[:=]\s*["']?([A-Za-z0-9_\-+/=.~!@#$%^&*]{12,512})`
 * (case-insensitive) matches, found by one walk over the line. The regex took 161 s on 10 KB
 * of `secretsecret...` (it retries every split of the name at every start); this looks at each
 * name run once. The value is kept only if it clears the entropy threshold (scanner.ts), so
 * `token: ***` or `password: changeme` pass. `index` is where the value starts.
 */
export function* findAssignments(text: string): Generator<AssignmentMatch> {
  let at = 0;
  while (at < text.length) {
    if (!isIn(NAME_CHAR, text, at)) {
      at += 1;
      continue;
    }
    const nameEnd = runEnd(NAME_CHAR, text, at);
    const name = text.slice(at, nameEnd);
    let cursor = nameEnd;
    if (text[cursor] === '"' || text[cursor] === "'") cursor += 1;
    while (cursor < text.length && isSpace(text, cursor)) cursor += 1;
    if ((text[cursor] === ':' || text[cursor] === '=') && SECRET_WORD.test(name)) {
      cursor += 1;
      while (cursor < text.length && isSpace(text, cursor)) cursor += 1;
      if (text[cursor] === '"' || text[cursor] === "'") cursor += 1;
      // Bounded: a value run can be the rest of the line, and the walk resumes where the value ends.
      const valueEnd = runEnd(VALUE_CHAR, text, cursor, VALUE_MAX);
      if (valueEnd - cursor >= VALUE_MIN) {
        yield { index: cursor, value: text.slice(cursor, valueEnd), name: name.length > NAME_KEEP ? name.slice(-NAME_KEEP) : name };
        at = valueEnd;
        continue;
      }
    }
    // No assignment ends this run: no start inside it can match either (same separator, same value).
    at = nameEnd;
  }
}

const AZURE_SIG = /[?&]sig=([A-Za-z0-9%+/=]{40,200})/g;

/** The signature of an Azure SAS URL (`...?sv=2022-11-02&...&sig=...`): only on a line with a SAS version. */
export function* findAzureSas(text: string): Generator<TextMatch> {
  if (!/[?&]sv=\d{4}-\d{2}-\d{2}/.test(text)) return;
  for (const match of text.matchAll(AZURE_SIG)) yield { index: match.index + 5, value: match[1]! };
}

/**
 * JSON Web Tokens: `eyJ` at a word boundary, then `[A-Za-z0-9_-]{8,}` `.eyJ` `{8,}` `.` `{8,}`
 * (header and payload are base64url JSON objects). A hand scan: the regex restarted at every
 * `eyJ` of `eyJ-eyJ-eyJ-...` and read to the end of the run each time (quadratic).
 */
export function* findJwts(text: string): Generator<TextMatch> {
  let from = 0;
  for (;;) {
    const start = text.indexOf('eyJ', from);
    if (start === -1) return;
    if (start > 0 && isIn(WORD_CHAR, text, start - 1)) {
      from = start + 1;
      continue;
    }
    const headerEnd = runEnd(JWT_CHAR, text, start + 3);
    // Every later `eyJ` before headerEnd ends its first part at the same place, with less before it.
    from = headerEnd;
    if (headerEnd - (start + 3) < 8 || text[headerEnd] !== '.' || !text.startsWith('eyJ', headerEnd + 1)) continue;
    const payloadEnd = runEnd(JWT_CHAR, text, headerEnd + 4);
    if (payloadEnd - (headerEnd + 4) < 8 || text[payloadEnd] !== '.') continue;
    const signatureEnd = runEnd(JWT_CHAR, text, payloadEnd + 1);
    if (signatureEnd - (payloadEnd + 1) < 8) continue;
    yield { index: start, value: text.slice(start, signatureEnd) };
    from = signatureEnd;
  }
}

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
