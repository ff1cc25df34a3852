import { describe, expect, it } from 'vitest';
import { runHunt } from '../../src/hunt/engine.js';
import type { HuntFinding } from '../../src/hunt/model.js';
import { byUser, bySession, memorySource, oidcAssume, ROLE_ARN, SUBJECT, t } from './trail-fixtures.js';

const JOB_KEY = 'ASIAJOBKEY0000000001';
const REASSUMED = 'ASIAREASSUMED0000001';
const NEW_USER_KEY = 'AKIANEWKEY0000000001';
const CHAINED = 'ASIACHAINED000000001';
const ATTACKER = { ip: '203.0.113.66', agent: 'python-requests/2.31.0' };

/** The tj-actions-style storyline: a job's session key leaks from its log and is used after the job. */
function storyline() {
  return [
    oidcAssume(0, JOB_KEY),
    bySession(JOB_KEY, 0, { at: 2, name: 'GetCallerIdentity', source: 'sts.amazonaws.com' }),
    bySession(JOB_KEY, 0, { at: 3, name: 'PutObject', source: 's3.amazonaws.com' }),
    // After the job ended at 10: the attacker, from elsewhere.
    bySession(JOB_KEY, 0, {
      at: 14,
      name: 'CreateAccessKey',
      ...ATTACKER,
      request: { userName: 'backdoor' },
      response: { accessKey: { userName: 'backdoor', accessKeyId: NEW_USER_KEY, status: 'Active', createDate: t(14) } },
    }),
    bySession(JOB_KEY, 0, { at: 16, name: 'StopLogging', source: 'cloudtrail.amazonaws.com', ...ATTACKER, request: { name: 'main' } }),
    // Revocation at 30: one call still succeeds (IAM eventual consistency), then the deny bites.
    bySession(JOB_KEY, 0, { at: 31, name: 'ListUsers', ...ATTACKER }),
    bySession(JOB_KEY, 0, {
      at: 36,
      name: 'ListRoles',
      ...ATTACKER,
      error: 'AccessDenied',
      message: 'User: arn:aws:sts::111122223333:assumed-role/deploy/GitHubActions is not authorized to perform: iam:ListRoles with an explicit deny in an identity-based policy',
    }),
    // The backdoor key mints a session, which is then used.
    byUser('backdoor', NEW_USER_KEY, {
      at: 40,
      name: 'GetSessionToken',
      source: 'sts.amazonaws.com',
      ...ATTACKER,
      response: { credentials: { accessKeyId: CHAINED, expiration: t(100) } },
    }),
    bySession(CHAINED, 40, { at: 50, name: 'ListBuckets', source: 's3.amazonaws.com', ...ATTACKER }, 'backdoor'),
    // And the attacker re-assumes the role with a stolen OIDC token after the job ended.
    oidcAssume(45, REASSUMED, SUBJECT, ATTACKER.ip),
    // Noise: another identity doing ordinary work.
    byUser('alice', 'AKIAALICE00000000001', { at: 20, name: 'ListUsers' }),
  ];
}

function find(findings: HuntFinding[], kind: string, identity?: string) {
  return findings.filter((finding) => finding.kind === kind && (!identity || finding.identity === identity));
}

describe('classifiers on a lab-style trail', () => {
  it('finds each class, following minted credentials transitively to a fixpoint', async () => {
    // Given the trail of a leaked job session and the hunt input contain would build
    const source = memorySource(storyline());

    // When the OIDC subject is hunted with the job end and the revocation as cutoffs
    const result = await runHunt(
      { identities: [{ kind: 'oidc-subject', subject: SUBJECT }], cutoffs: { jobCompletedAt: t(10), revokedAt: t(30) }, since: t(8), until: t(60) },
      source,
      { now: new Date(t(60 * 24)) },
    );

    // Then every credential minted along the chain became a hunted identity
    const ids = result.identities.map((identity) => identity.id);
    expect(ids).toEqual(expect.arrayContaining([`oidc:${SUBJECT}`, JOB_KEY, REASSUMED, NEW_USER_KEY, CHAINED]));
    expect(result.identities.find((identity) => identity.id === CHAINED)?.via).toMatch(/^GetSessionToken .* by AKIANEWKEY0000000001$/);
    expect(result.stats.rounds).toBe(4);

    // And a successful call after the revocation is critical: containment failed
    const [failed] = find(result.findings, 'used-after-revocation', JOB_KEY);
    expect(failed).toMatchObject({ severity: 'critical' });
    expect(failed!.evidence.map((event) => event.eventName)).toEqual(['ListUsers']);
    expect(result.findings[0]!.severity).toBe('critical');

    // And the explicitly denied one says containment works
    const [denied] = find(result.findings, 'denied-after-revocation', JOB_KEY);
    expect(denied).toMatchObject({ severity: 'info' });
    expect(denied!.evidence).toEqual([expect.objectContaining({ eventName: 'ListRoles', errorCode: 'AccessDenied', accessKeyId: JOB_KEY })]);

    // And the job's key used after completed_at + 5 minutes outlived the job (t2, t3 were in the
    // job; t14 is inside the skew margin)
    const afterJob = find(result.findings, 'used-after-job-end', JOB_KEY).flatMap((finding) => finding.evidence.map((event) => event.eventTime));
    expect(afterJob.sort()).toEqual([t(16), t(31), t(36)]);

    // And the minting chain is reported at each step, with the use of what was minted
    const minted = find(result.findings, 'new-credentials-minted');
    expect(minted.map((finding) => finding.identity).sort()).toEqual([JOB_KEY, NEW_USER_KEY, `oidc:${SUBJECT}`].sort());
    expect(find(minted, 'new-credentials-minted', NEW_USER_KEY)[0]!.evidence.map((event) => event.eventName)).toEqual(['GetSessionToken', 'ListBuckets']);
    // the job's own AssumeRoleWithWebIdentity (during the job) is followed, not reported
    expect(find(minted, 'new-credentials-minted', `oidc:${SUBJECT}`)[0]!.evidence.map((event) => event.eventTime)).toEqual([t(45)]);

    // And the attacker's source was not seen for the key before the window
    const [unusual] = find(result.findings, 'unusual-source', JOB_KEY);
    expect(new Set(unusual!.evidence.map((event) => event.sourceIPAddress))).toEqual(new Set([ATTACKER.ip]));

    // And StopLogging by a hunted key is high-severity defense evasion
    expect(find(result.findings, 'defense-evasion', JOB_KEY)).toEqual([expect.objectContaining({ severity: 'high' })]);

    // And the bystander is in no finding
    expect(JSON.stringify(result.findings)).not.toContain('alice');
    expect(result.provisional).toBe(false);
  });

  it('does not call a session issued after the revocation a containment failure', async () => {
    // Given a session of the role issued after the cutoff (a legitimate new job)
    const records = [bySession('ASIANEWJOB0000000001', 40, { at: 41, name: 'PutObject', source: 's3.amazonaws.com' })];
    // When the role is hunted with a revocation at 30
    const result = await runHunt({ identities: [{ kind: 'role', roleArn: ROLE_ARN }], cutoffs: { revokedAt: t(30) } }, memorySource(records), { now: new Date(t(600)) });
    // Then nothing is reported
    expect(result.findings).toEqual([]);
  });

  it('treats an authorised call that failed for another reason as a containment failure', async () => {
    // Given a deactivated user key whose call got past authorisation and failed on the entity
    const records = [byUser('ci', 'AKIACIKEY00000000001', { at: 31, name: 'DeleteLoginProfile', error: 'NoSuchEntity', ...ATTACKER })];
    // When the key is hunted with its deactivation time
    const result = await runHunt({ identities: [{ kind: 'access-key', accessKeyId: 'AKIACIKEY00000000001', cutoffs: { deactivatedAt: t(30) } }] }, memorySource(records), {
      now: new Date(t(600)),
    });
    // Then it is critical: the key still works
    expect(result.findings).toEqual([expect.objectContaining({ kind: 'used-after-revocation', severity: 'critical' })]);
  });

  it('marks a scan that reaches the last 15 minutes as provisional', async () => {
    // Given a window that ends now
    const result = await runHunt({ identities: [{ kind: 'user', userName: 'ci' }] }, memorySource([]), { now: new Date(t(0)) });
    // Then the result says CloudTrail may still deliver events
    expect(result.provisional).toBe(true);
  });
});
