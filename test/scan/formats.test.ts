import { describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/engine/secret.js';
import { KNOWN_DETECTORS, PROVIDER_OF, type HitKind } from '../../src/scan/detectors.js';
import { publicHit, scanText } from '../../src/scan/index.js';

/**
 * Formats responders had to rotate in real incidents that the scanner once missed or only
 * guessed at (OpenWrt, Unit 42, Codecov, Shai-Hulud). The values are made up, shaped like the
 * vendors' formats.
 */
const SAMPLES: Array<[HitKind, string, string]> = [
  ['pypi-token', `pypi-AgEIcHlwaS5vcmc${'CJDI0YjYyYWEzLWZlZWEtNDA1Ny04ZGNiLWQ2NDBkOTI3M2NmOQACEFsxLFsiY2MtZXhwdHMiXV0'}`, 'pypi-'],
  ['dockerhub-token', `dckr_pat_${'Xq3Lm9Rt2Vw8Yz4Ab6Cd0Ef2Gh4'}`, 'dckr_pat_'],
  ['gitlab-token', `glpat-${'Zq9Wm3Kp7Lr2Tn8Vb4Xc'}`, 'glpat-'],
  ['gitlab-token', `glrt-${'t1_Zq9Wm3Kp7Lr2Tn8Vb4Xc6Yd'}`, 'glrt-'],
  ['openai-key', `sk-proj-${'Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1Ef3'}T3BlbkFJ${'Hj5Kl7Mn9Pq1Rs3Tu5Vw7Xy9Za1Bc3De5'}`, 'sk-proj-'],
  ['openai-key', `sk-${'Ab3De5Gh7Jk9Mn1Pq3St'}T3BlbkFJ${'Hj5Kl7Mn9Pq1Rs3Tu5Vw'}`, 'sk-'],
];

describe('more token formats', () => {
  it.each(SAMPLES)('finds a %s and keeps only its prefix and length', (kind, value, prefix) => {
    // Given a log line with the token among other words
    const hits = scanText(`2025-09-16T10:00:00.0000000Z curl -H "Authorization: Bearer ${value}" https://example.test`, { source: 'job.txt' });
    // Then it is found as its kind, fingerprinted, and nothing but the prefix and length is shown
    expect(hits.map((hit) => hit.kind)).toEqual([kind]);
    expect(hits[0]).toMatchObject({ fingerprint: fingerprint(value), preview: `${prefix}****…(${value.length})` });
    expect(JSON.stringify(hits.map(publicHit))).not.toContain(value.slice(prefix.length));
  });

  it('finds the signature of an Azure SAS URL, and not a sig= elsewhere', () => {
    // Given a blob URL with a SAS, and a line with an unrelated sig= parameter
    const sig = 'Zq9Wm3Kp7Lr2Tn8Vb4Xc6Yd1Fg5Hj0Ks3Lu7Mw9Ne2Pr4%3D';
    const hits = scanText(`azcopy copy "https://acme.blob.core.windows.net/build?sv=2022-11-02&ss=b&srt=co&sp=rwl&se=2026-12-31T00:00:00Z&sig=${sig}" ./out\nGET /feed?page=2&sig=${sig}\n`, { source: 'job.txt' });
    // Then only the SAS line's signature is a hit
    expect(hits.map((hit) => [hit.kind, hit.line])).toEqual([['azure-sas-token', 1]]);
    expect(hits[0]!.fingerprint).toBe(fingerprint(sig));
  });

  it('finds the private key of a GCP service account key printed as one JSON line', () => {
    // Given `cat key.json` of a service account key in a log (newlines escaped in the JSON)
    const body = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7';
    const json = JSON.stringify({ type: 'service_account', project_id: 'acme-ci', private_key_id: 'a'.repeat(40), private_key: `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`, client_email: 'ci@acme-ci.iam.gserviceaccount.com' });
    const hits = scanText(json, { source: 'job.txt' });
    // Then the key is a private-key hit (its owner deletes the key and issues a new one)
    expect(hits.map((hit) => hit.kind)).toEqual(['private-key']);
    expect(JSON.stringify(hits.map(publicHit))).not.toContain(body);
  });

  it('names the provider and how to close every kind', () => {
    for (const detector of KNOWN_DETECTORS) {
      const kind = typeof detector.kind === 'string' ? detector.kind : detector.kind('ghp_x');
      expect(PROVIDER_OF[kind].provider.length).toBeGreaterThan(0);
      expect(PROVIDER_OF[kind].close.length).toBeGreaterThan(0);
    }
  });
});
