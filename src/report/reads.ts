import type { Collected } from './collect.js';
import type { OpenItem } from './model.js';

/**
 * What the attacker read becomes something to rotate: one OPEN item per secret, parameter, KMS
 * key or S3 prefix a hunted identity read (the hunt's `secret-read` findings), naming who read it
 * and when. Nothing in a containment run rotates these values, so the item stays open until a
 * human does (kind `credential`: it keeps `contain` at exit 3, never a silent all-clear).
 */
export function secretReadOpenItems(c: Pick<Collected, 'findings'>): OpenItem[] {
  const byResource = new Map<string, Array<{ who: string; at?: string }>>();
  for (const { value: finding } of c.findings) {
    if (finding.kind !== 'secret-read') continue;
    const who = (finding as { identity?: unknown }).identity;
    const readers = byResource.get(finding.resource) ?? [];
    readers.push({ who: typeof who === 'string' ? who : 'a hunted identity', ...(finding.at && { at: finding.at }) });
    byResource.set(finding.resource, readers);
  }
  return [...byResource].map(([resource, readers]) => ({
    id: `credential:read:${resource}`,
    kind: 'credential',
    severity: 'high',
    blocking: true,
    resource,
    summary: `rotate ${resource}: read by ${[...new Set(readers.map((r) => `${r.who}${r.at ? ` at ${r.at}` : ''}`))].join(', ')} (a hunted identity read it; the attacker holds its value)`,
    reason: 'a hunted identity read its value',
    action: `rotate ${resource} at its source (Secrets Manager, SSM, KMS, S3) and update what uses it`,
  }));
}
