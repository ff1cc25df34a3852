import { createHash } from 'node:crypto';
import { inspect } from 'node:util';

/**
 * Fingerprint of a secret value: enough to say "the same value" in a journal or report,
 * never enough to use it. Deterministic, so the lab can record the fingerprint of what it
 * received and tests can compare.
 */
export function fingerprint(value: string): string {
  return `sha256:${createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 16)}`;
}

const known = new Set<string>();

/**
 * A bare AWS access key id (long-term AKIA, temporary ASIA). It names a key, it does not grant
 * anything: AWS prints it in CloudTrail and in every error, and the report must be able to say
 * which key was deactivated. Values of this shape are therefore never registered for
 * `redact()`, even when they arrive wrapped in a Secret (a GitHub secret AWS_ACCESS_KEY_ID holds
 * one); the Secret object itself still serialises as its fingerprint. The secret access key
 * (40 characters, not this shape) is always registered.
 */
const AWS_ACCESS_KEY_ID = /^(AKIA|ASIA)[A-Z0-9]{16}$/;

function remember(value: string): void {
  if (value.length >= 6 && !AWS_ACCESS_KEY_ID.test(value)) known.add(value);
}

/**
 * A secret value. It serialises (JSON, template strings, util.inspect, console.log) as its
 * fingerprint; only `reveal()` gives the value, and only code that hands it to an API calls it.
 */
export class Secret {
  readonly #value: string;
  readonly fingerprint: string;
  /** What the secret is, for humans: "IAM access key AKIA... secret", never the value. */
  readonly label: string;

  constructor(value: string, label = 'secret') {
    this.#value = value;
    this.fingerprint = fingerprint(value);
    this.label = label;
    remember(value);
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): { secret: true; fingerprint: string; label: string } {
    return { secret: true, fingerprint: this.fingerprint, label: this.label };
  }

  toString(): string {
    return `[secret ${this.fingerprint}]`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

export function isSecret(value: unknown): value is Secret {
  return value instanceof Secret;
}

/**
 * Replaces every secret value this process has seen (each `new Secret`) by its fingerprint.
 * Every writer of logs, journal records and reports passes its text through it: a second
 * net under the Secret type, for a value that escaped as a plain string.
 */
export function redact(text: string): string {
  let out = text;
  for (const value of known) {
    if (out.includes(value)) out = out.split(value).join(`[secret ${fingerprint(value)}]`);
  }
  return out;
}

/** Registers a value that must never be printed (a token read from a file, say) without wrapping it. */
export function registerSecretValue(value: string): void {
  remember(value);
}
