import { fingerprint, redact } from '../engine/secret.js';

/**
 * Token shapes that are secrets whatever process minted them. `redact()` only knows values
 * this process wrapped in a Secret; `cicd-ir report` usually runs in a later process, so a
 * value a buggy producer journalled as a plain string would pass it. These shapes are the
 * second half of the last net. Each pattern must not match ids the report shows on purpose
 * (AKIA/ASIA key ids, 40-hex commit SHAs, fingerprints, request ids).
 */
const SECRET_SHAPES: RegExp[] = [
  // GitHub tokens: classic/OAuth/user-to-server/server-to-server/refresh, fine-grained PATs.
  /\bgh[pousr]_[A-Za-z0-9]{30,255}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{40,255}\b/g,
  // npm automation/publish tokens.
  /\bnpm_[A-Za-z0-9]{36}\b/g,
  // AWS secret access key: 40 chars of base64 alphabet with upper and lower case letters
  // (a commit SHA is lower-case hex, so it never matches).
  /(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
  // AWS session tokens (long base64 blobs starting like STS ones).
  /\b(?:FwoGZXIvYXdzE|IQoJb3JpZ2luX2Vj)[A-Za-z0-9/+=]{40,}/g,
  // Slack tokens.
  /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g,
];

const PEM_BEGIN = /-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----/g;
const PEM_END = /-----END [A-Z ]{0,40}PRIVATE KEY-----/g;

/**
 * PEM private keys (deploy keys, GitHub App keys), BEGIN to the next END, found in one walk: a
 * lazy `BEGIN[\s\S]*?END` regex reads to the end of the text from every BEGIN that has no END
 * (quadratic on a crafted report field).
 */
function replacePem(text: string): string {
  if (!text.includes('PRIVATE KEY-----')) return text;
  let out = '';
  let copied = 0;
  PEM_BEGIN.lastIndex = 0;
  for (let begin = PEM_BEGIN.exec(text); begin; begin = PEM_BEGIN.exec(text)) {
    PEM_END.lastIndex = begin.index + begin[0].length;
    const end = PEM_END.exec(text);
    if (!end) break;
    const block = text.slice(begin.index, end.index + end[0].length);
    out += `${text.slice(copied, begin.index)}[secret ${fingerprint(block)}]`;
    copied = end.index + end[0].length;
    PEM_BEGIN.lastIndex = copied;
  }
  return out + text.slice(copied);
}

/** The runner-memory dump format of the tj-actions payload: `"value":"...","isSecret":true`. */
const RUNNER_SECRET = /("value"\s*:\s*")([^"]{6,})("\s*,\s*"isSecret"\s*:\s*true)/g;

/**
 * Last net for every report output: `redact()` (secrets this process saw), then known token
 * shapes replaced by their fingerprint, which still lets a reader say "the same token".
 */
export function scrubSecrets(text: string): string {
  let out = redact(text);
  out = out.replace(RUNNER_SECRET, (_m, head: string, value: string, tail: string) => `${head}[secret ${fingerprint(value)}]${tail}`);
  out = replacePem(out);
  for (const shape of SECRET_SHAPES) {
    out = out.replace(shape, (value) => `[secret ${fingerprint(value)}]`);
  }
  return out;
}
