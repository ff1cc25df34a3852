import { describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/engine/secret.js';
import { scrubSecrets } from '../../src/report/scrub.js';

describe('scrubSecrets', () => {
  it('replaces a PEM private key block by its fingerprint, text around it kept', () => {
    // Given a report field holding a key block between other words
    const block = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7xq\n-----END RSA PRIVATE KEY-----';
    // When it is scrubbed
    const out = scrubSecrets(`before ${block} after`);
    // Then the block is gone, its fingerprint stands in its place
    expect(out).toBe(`before [secret ${fingerprint(block)}] after`);
  });

  it('scrubs 400 KB of PEM begins without an end in bounded time (attacker text reaches reports)', () => {
    // Given a crafted field: BEGIN markers and no END (a lazy BEGIN..END regex reads to the end
    // of the text from each one: 350 ms at 100 KB, about 5.5 s at 400 KB, measured)
    const text = '-----BEGIN PRIVATE KEY-----'.repeat(14_815);
    // When it is scrubbed
    const started = performance.now();
    const out = scrubSecrets(text);
    // Then it is left as it is, in far less time than a quadratic scan takes
    expect(out).toBe(text);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
