import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import huntCloudtrail from '../../../src/actions/aws/hunt-cloudtrail.js';
import { findAction } from '../../../src/actions/index.js';
import type { Finding } from '../../../src/actions/define.js';
import type { ActionContext, Clients } from '../../../src/engine/context.js';
import { bySession, oidcAssume, SUBJECT, t } from '../../hunt/trail-fixtures.js';

function context(): ActionContext & { findings: Finding[]; evidence: Array<[string, any]>; evidenceLog: Array<[string, any]> } {
  const findings: Finding[] = [];
  const evidenceLog: Array<[string, any]> = [];
  const clients = {
    cloudtrail: () => {
      throw new Error('the files source makes no CloudTrail call');
    },
  } as unknown as Clients;
  return {
    runId: 'r1',
    incident: 'test',
    runDir: tmpdir(),
    dryRun: false,
    stepKey: 'hunt',
    clients,
    signal: new AbortController().signal,
    now: () => new Date(t(600)),
    log: () => {},
    evidence: (kind: string, data: unknown) => void evidenceLog.push([kind, data]),
    finding: (finding: Finding) => void findings.push(finding),
    findings,
    evidenceLog,
  } as any;
}

describe('aws.hunt-cloudtrail', () => {
  it('is registered, read-only, strict, and its example and playbook validate', () => {
    // Given the registry and the example playbook
    expect(findAction('aws.hunt-cloudtrail')).toBe(huntCloudtrail);
    expect(huntCloudtrail.mutating).toBe(false);
    expect(huntCloudtrail.permissions).toContain('cloudtrail:LookupEvents');
    // Then the example parses, a typo is refused, and files without a path is refused
    expect(huntCloudtrail.schema.safeParse(huntCloudtrail.example).success).toBe(true);
    expect(huntCloudtrail.schema.safeParse({ ...huntCloudtrail.example, regoins: ['x'] }).success).toBe(false);
    expect(huntCloudtrail.schema.safeParse({ ...huntCloudtrail.example, source: 'files' }).success).toBe(false);
    const playbook = parse(readFileSync(new URL('../../../playbooks/examples/aws-hunt-cloudtrail.yaml', import.meta.url), 'utf8'));
    expect(readFileSync(new URL('../../../playbooks/examples/aws-hunt-cloudtrail.yaml', import.meta.url), 'utf8').startsWith('# yaml-language-server: $schema=../../docs/playbook.schema.json')).toBe(true);
    expect(playbook.steps.map((step: { uses: string }) => step.uses)).toEqual(['aws.hunt-cloudtrail']);
  });

  it('plans only reads: one LookupEvents per attribute and region', async () => {
    // Given an api hunt of one key in two regions
    const input = huntCloudtrail.schema.parse({ ...huntCloudtrail.example, regions: ['us-east-1', 'eu-west-1'] });
    // When it plans
    const plan = await huntCloudtrail.plan(context(), input);
    // Then it changes nothing and every call is a single-attribute read
    expect(plan.changes).toEqual([]);
    expect(plan.calls.every((call) => !call.mutating && call.operation === 'LookupEvents' && (call.params.LookupAttributes as unknown[]).length === 1)).toBe(true);
    expect(plan.calls.filter((call) => call.params.region === 'eu-west-1').length).toBe(plan.calls.length / 2);
  });

  it('records findings and trimmed evidence, and fails verify when containment failed', async () => {
    // Given an S3-layout folder with a leaked session used after revocation
    const key = 'ASIAJOBKEY0000000001';
    const dir = mkdtempSync(join(tmpdir(), 'hunt-action-'));
    writeFileSync(
      join(dir, 'trail.json.gz'),
      gzipSync(JSON.stringify({ Records: [oidcAssume(0, key), bySession(key, 0, { at: 31, name: 'ListUsers', ip: '203.0.113.66', request: { marker: 'x' } })] })),
    );
    const ctx = context();
    const input = huntCloudtrail.schema.parse({
      source: 'files',
      path: dir,
      identities: [{ kind: 'oidc-subject', subject: SUBJECT }],
      cutoffs: { jobCompletedAt: t(10), revokedAt: t(30) },
      until: t(120),
    });

    // When it plans, applies and verifies
    const plan = await huntCloudtrail.plan(ctx, input);
    const result = await huntCloudtrail.apply(ctx, input, plan);
    const verdict = await huntCloudtrail.verify(ctx, input, result);

    // Then the critical finding is journalled, with trimmed evidence only
    expect(result).toMatchObject({ changed: false, outputs: { critical: 1, identities: [`oidc:${SUBJECT}`, key], provisional: false } });
    expect(ctx.findings.map((finding) => [finding.kind, finding.severity])).toEqual(
      expect.arrayContaining([
        ['used-after-revocation', 'critical'],
        ['used-after-job-end', 'high'],
      ]),
    );
    const [kind, data] = ctx.evidenceLog[0]!;
    expect(kind).toBe('cloudtrail-events');
    expect(Object.keys(data.events[0]).sort()).toEqual(['accessKeyId', 'awsRegion', 'eventID', 'eventName', 'eventSource', 'eventTime', 'identity', 'sourceIPAddress', 'userAgent'].sort());
    expect(JSON.stringify(data)).not.toContain('requestParameters');
    expect(verdict.verified).toBe(false);
    expect(verdict.detail).toMatch(/containment failed/);
  });

  it('lists damaged input in its outputs and is not verified when it skipped any', async () => {
    // Given a folder whose trail file was cut short: the session's first call is before the cut, a later one was lost
    const key = 'ASIAJOBKEY0000000001';
    const dir = mkdtempSync(join(tmpdir(), 'hunt-action-damaged-'));
    const gz = gzipSync(JSON.stringify({ Records: [oidcAssume(0, key), bySession(key, 0, { at: 5, name: 'ListUsers' }), bySession(key, 0, { at: 31, name: 'ListRoles' })] }));
    writeFileSync(join(dir, 'trail.json.gz'), gz.subarray(0, gz.length - 40));
    const ctx = context();
    const input = huntCloudtrail.schema.parse({ source: 'files', path: dir, identities: [{ kind: 'oidc-subject', subject: SUBJECT }], cutoffs: { revokedAt: t(30) }, until: t(120) });

    // When it applies and verifies
    const result = await huntCloudtrail.apply(ctx, input, await huntCloudtrail.plan(ctx, input));
    const verdict = await huntCloudtrail.verify(ctx, input, result);

    // Then no critical use is seen in what was read, but the damage is in the outputs and the step is not verified
    expect(result.outputs).toMatchObject({ critical: 0, damaged_files: 1 });
    expect(result.outputs.damaged_inputs).toEqual(expect.arrayContaining([expect.objectContaining({ path: join(dir, 'trail.json.gz'), reason: expect.stringMatching(/gzip/) })]));
    expect(verdict.verified).toBe(false);
    expect(verdict.detail).toMatch(/hunt incomplete: 1 damaged file/);
  });
});
