import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { JournalRecord } from '../../src/engine/journal.js';
import { fingerprint, Secret } from '../../src/engine/secret.js';
import { writeReports } from '../../src/report/index.js';
import { scrubSecrets } from '../../src/report/scrub.js';
import { CONTAIN, loadFixture, NOW, runDirWith } from './fixture.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// Values the lab would mint in this process (wrapped in Secret, so redact() knows them)...
const LAB_AWS_SECRET = new Secret('labMintedAwsSecret0123456789abcdefGHIJ+/xy', 'lab IAM secret').reveal();
const LAB_NPM_SECRET = new Secret('lab-npm-token-value-7f3a9c', 'lab npm token').reveal();
// ...and values a buggy producer journalled as plain strings that this process never saw:
// only their shape gives them away (the report usually runs in a later process).
const UNSEEN = {
  githubPat: 'ghp_Q3kX9vT2mB7nL4pR8sW1yZ6cF0hJ5dG2aE9u',
  fineGrained: 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789abcdef',
  npm: 'npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8',
  awsSecret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  runnerMemory: 'coverity-plain-value-42',
};

function inject(records: JournalRecord[]): void {
  const find = (pred: (r: any) => boolean) => records.find(pred) as any;
  // A finding summary quoting what the log leaked
  find((r) => r.type === 'finding' && r.finding.kind === 'secret-in-log').finding.summary +=
    ` {"value":"${UNSEEN.runnerMemory}","isSecret":true} token ${UNSEEN.githubPat} and ${LAB_AWS_SECRET}`;
  // A step error and a verify detail echoing an API response
  find((r) => r.type === 'step' && r.key === 'rotate[1]' && r.phase === 'unverified').verify.detail += ` (old token ${UNSEEN.npm} / ${LAB_NPM_SECRET})`;
  // A credential detail and an API call error
  find((r) => r.type === 'evidence' && r.kind === 'credential' && r.data.credential === 'AKIAEXAMPLEOLDKEY001').data.detail += ` secret was ${UNSEEN.awsSecret}`;
  find((r) => r.type === 'api-call' && r.operation === 'CreateAccessKey').error = `echoed ${LAB_AWS_SECRET}`;
  // Attacker-controlled GitHub fields
  const runs = find((r) => r.type === 'evidence' && r.kind === 'workflow-runs').data.runs;
  runs[1].head_branch = `leak-${UNSEEN.fineGrained}`;
  runs[1].actor = LAB_NPM_SECRET;
  // A CloudTrail event and an inventory name
  find((r) => r.type === 'evidence' && r.kind === 'cloudtrail-events').data.events[2].sourceIPAddress = UNSEEN.awsSecret;
  find((r) => r.type === 'evidence' && r.kind === 'inventory').data.items[3].rotation = `manual (current value ${UNSEEN.githubPat})`;
}

describe('no secret value in any report output', () => {
  it('replaces every planted secret by its fingerprint in md, html, json, jsonl and csv', async () => {
    // Given a journal where producers leaked secrets into summaries, details, errors and GitHub fields
    const records = await loadFixture(CONTAIN);
    inject(records);
    const dir = await runDirWith(CONTAIN);
    await writeFile(join(dir, 'journal.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    // When every format is written
    const paths = await writeReports(dir, ['md', 'html', 'json', 'timesketch'], { now: NOW });
    expect(paths).toHaveLength(5);
    const secrets = [LAB_AWS_SECRET, LAB_NPM_SECRET, ...Object.values(UNSEEN)];
    for (const path of paths) {
      const text = await readFile(path, 'utf8');
      // Then no secret value appears, not even JSON- or HTML-escaped
      for (const secret of secrets) {
        expect(text.includes(secret), `${path} contains ${secret}`).toBe(false);
        expect(text.includes(JSON.stringify(secret).slice(1, -1)), `${path} contains escaped ${secret}`).toBe(false);
        expect(text.includes(secret.replace(/\//g, '&#x2F;')), `${path} contains ${secret}`).toBe(false);
      }
      // And the fingerprints stand in for them, so "the same token" can still be followed
      expect(text).toContain(fingerprint(UNSEEN.githubPat));
      expect(text).toContain(fingerprint(LAB_AWS_SECRET));
      // And the ids a responder needs survive the net
      for (const id of ['AKIAEXAMPLEOLDKEY001', 'ASIAEXAMPLESESSION01', 'c3d1e5f0-0003-4a6b-9c2d-000000000003']) expect(text).toContain(id);
    }
  });

  it('leaves commit SHAs, key ids, fingerprints and request ids alone', () => {
    // Given text full of identifiers that look random but are not secret
    const text = [
      'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
      'AKIAIOSFODNN7EXAMPLE ASIAEXAMPLESESSION01',
      'sha256:4f1c9a0b7e2d3c68',
      'b1a7c0de-0000-4000-8000-000000000002 C0FE:1A2B:3C4D:5E6F:0002',
      'https://github.com/acme/webapp/actions/runs/9001/job/41001',
      'arn:aws:sts::111122223333:assumed-role/gha-deploy/GitHubActions',
    ].join('\n');
    // Then scrubbing changes nothing
    expect(scrubSecrets(text)).toBe(text);
  });
});
