import { describe, expect, it } from 'vitest';
import { Secret, fingerprint, redact, registerSecretValue } from '../../src/engine/secret.js';

describe('redact', () => {
  it('leaves a bare AWS access key id readable but still hides the secret access key', () => {
    // Given a lab GitHub secret AWS_ACCESS_KEY_ID (an AKIA key id) and its secret access key, both wrapped
    const keyId = 'AKIAZZTESTKEYID00001';
    const sessionKeyId = 'ASIAZZTESTKEYID00002';
    const secretKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzTESTKEY1';
    const wrappedId = new Secret(keyId, 'GitHub secret AWS_ACCESS_KEY_ID');
    new Secret(secretKey, 'GitHub secret AWS_SECRET_ACCESS_KEY');
    registerSecretValue(sessionKeyId);

    // When a step detail naming both is redacted
    const out = redact(`deactivated ${keyId} and ${sessionKeyId}; secret ${secretKey}`);

    // Then the key ids stay (they name keys, AWS logs them), the secret key becomes its fingerprint
    expect(out).toBe(`deactivated ${keyId} and ${sessionKeyId}; secret [secret ${fingerprint(secretKey)}]`);
    // And the Secret object itself still never serialises its value
    expect(JSON.stringify({ wrappedId })).not.toContain(keyId);
    expect(`${wrappedId}`).toBe(`[secret ${fingerprint(keyId)}]`);
  });

  it('still redacts a value that only contains a key id among other text', () => {
    // Given a secret whose value merely starts with a key id (not the bare id shape)
    const value = 'AKIAZZTESTKEYID00003:extra-secret-part';
    new Secret(value);
    // Then it is registered and redacted whole
    expect(redact(`v=${value}`)).toBe(`v=[secret ${fingerprint(value)}]`);
  });
});
