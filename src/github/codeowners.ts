import { parse } from 'yaml';
import { z } from 'zod';

/**
 * Rotation owners: who rotates a credential a workflow reaches. First the optional owners file
 * (`.github/cicd-ir-owners.yml`, see OwnersFile), then the CODEOWNERS entry of the workflow
 * file, else `unknown`.
 */

/** Where GitHub looks for CODEOWNERS, in its order: the first that exists is the one used. */
export const CODEOWNERS_PATHS = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'] as const;

/** The optional owners file cicd-ir reads from the repository. */
export const OWNERS_FILE_PATH = '.github/cicd-ir-owners.yml';

/**
 * `.github/cicd-ir-owners.yml`:
 *
 * ```yaml
 * owners:
 *   NPM_TOKEN: "@acme/release"        # a secret name (case-insensitive)
 *   "AWS_*": "@acme/platform"         # or a pattern, * matches any characters
 *   GITHUB_TOKEN: alice@acme.example
 * ```
 * An exact name wins over a pattern; among patterns, the first in the file wins.
 */
export const OwnersFile = z
  .object({
    owners: z.record(z.string().min(1), z.union([z.string().min(1), z.array(z.string().min(1)).min(1)])),
  })
  .strict();

/** A parsed CODEOWNERS rule. */
export interface CodeownersRule {
  pattern: string;
  owners: string[];
  line: number;
  regex: RegExp;
}

function escape(text: string): string {
  return text.replace(/[.+^${}()|[\]\\]/g, '\\$&');
}

/**
 * A CODEOWNERS pattern as a regex over repository paths, with GitHub's gitignore-like rules:
 * a leading or inner `/` anchors at the root, otherwise the pattern matches at any depth; a
 * trailing `/` means everything under a directory; `*` stays within a segment, `**` crosses
 * segments; a pattern without a trailing wildcard also matches everything under it when it
 * names a directory. (`docs/*` matches `docs/a.md` but not `docs/x/a.md`, as GitHub documents.)
 */
export function codeownersRegex(pattern: string): RegExp {
  let body = pattern;
  const anchored = body.startsWith('/') || body.replace(/\/$/, '').includes('/');
  body = body.replace(/^\//, '');
  const directoryOnly = body.endsWith('/');
  body = body.replace(/\/$/, '');
  let out = '';
  for (let i = 0; i < body.length; i += 1) {
    if (body.startsWith('**/', i)) {
      out += '(?:.*/)?';
      i += 2;
    } else if (body.startsWith('/**', i) && i + 3 === body.length) {
      out += '/.*';
      i += 2;
    } else if (body.startsWith('**', i)) {
      out += '.*';
      i += 1;
    } else if (body[i] === '*') out += '[^/]*';
    else if (body[i] === '?') out += '[^/]';
    else out += escape(body[i]!);
  }
  const prefix = anchored ? '^' : '^(?:.*/)?';
  const suffix = directoryOnly ? '/.*$' : body.endsWith('*') ? '$' : '(?:/.*)?$';
  return new RegExp(prefix + out + suffix);
}

/** Parses CODEOWNERS text: comments and blank lines skipped, `\#` kept as a literal `#`. */
export function parseCodeowners(text: string): CodeownersRule[] {
  const rules: CodeownersRule[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/(^|[^\\])#.*$/, '$1').trim();
    if (line === '') return;
    const [pattern, ...owners] = line.split(/\s+/);
    const unescaped = pattern!.replace(/\\#/g, '#');
    try {
      rules.push({ pattern: unescaped, owners, line: index + 1, regex: codeownersRegex(unescaped) });
    } catch {
      // GitHub ignores a line it cannot parse; so do we.
    }
  });
  return rules;
}

/**
 * The owners of a path: the last matching rule wins (GitHub's rule). A matching rule with no
 * owners makes the path explicitly unowned: undefined, like no match.
 */
export function ownersOf(rules: CodeownersRule[], path: string): string[] | undefined {
  const normalised = path.replace(/^\/+/, '');
  let match: CodeownersRule | undefined;
  for (const rule of rules) if (rule.regex.test(normalised)) match = rule;
  return match && match.owners.length > 0 ? match.owners : undefined;
}

/** Parses the owners file; throws an Error whose message says what is wrong. */
export function parseOwnersFile(text: string): Map<string, string> {
  const result = OwnersFile.safeParse(parse(text));
  if (!result.success) throw new Error(result.error.issues.map((issue) => `${issue.path.join('.') || 'file'}: ${issue.message}`).join('; '));
  return new Map(Object.entries(result.data.owners).map(([name, owner]) => [name, Array.isArray(owner) ? owner.join(' ') : owner]));
}

/** The owner the owners file gives a credential name: exact (case-insensitive) first, then the first pattern that matches. */
export function ownerFromFile(owners: Map<string, string>, name: string): string | undefined {
  for (const [key, owner] of owners) if (!key.includes('*') && key.toUpperCase() === name.toUpperCase()) return owner;
  for (const [key, owner] of owners) {
    if (!key.includes('*')) continue;
    const regex = new RegExp(`^${key.split('*').map(escape).join('.*')}$`, 'i');
    if (regex.test(name)) return owner;
  }
  return undefined;
}
