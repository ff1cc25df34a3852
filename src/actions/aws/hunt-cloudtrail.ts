import { z } from 'zod';
import { defineAction, type ApiCall } from '../define.js';
import type { CredentialEvent, EvidenceByKind } from '../../engine/evidence.js';
import { hunt, HuntInput, summarise, type HuntRequest, type HuntResult } from '../../hunt/index.js';
import type { HuntedIdentity } from '../../hunt/model.js';
import { DEFENSE_EVASION_EVENTS, IdentityTracker } from '../../hunt/classify.js';
import { lookupsFor } from '../../hunt/sources/api.js';
import { huntQuerySql } from '../../hunt/sources/athena.js';

const AthenaTable = z
  .object({
    database: z.string(),
    table: z.string(),
    location: z.string().startsWith('s3://'),
    accountId: z.string().regex(/^\d{12}$/),
    regions: z.array(z.string()).min(1),
    projectionStart: z.string().optional(),
    workGroup: z.string().optional(),
    outputLocation: z.string().startsWith('s3://').optional(),
    createTable: z.boolean().optional(),
  })
  .strict();

const Schema = HuntInput.extend({
  /** Shorthand for identities a playbook has as plain lists (the inventory's subjects, find-roles' ARNs). */
  identities: HuntInput.shape.identities.optional(),
  oidc_subjects: z.array(z.string().min(1)).optional(),
  role_arns: z.array(z.string().startsWith('arn:')).optional(),
  access_key_ids: z.array(z.string().regex(/^(AKIA|ASIA)[A-Z0-9]{12,}$/)).optional(),
  source: z.enum(['api', 'files', 'athena']).default('api'),
  /** files: a directory, a file, or `s3://bucket/prefix`. */
  path: z.string().optional(),
  athena: AthenaTable.optional(),
})
  .strict()
  .superRefine((input, issues) => {
    if (input.source === 'files' && !input.path) issues.addIssue({ code: 'custom', path: ['path'], message: 'source files needs a path (directory, file or s3://bucket/prefix)' });
    if (input.source === 'athena' && !input.athena) issues.addIssue({ code: 'custom', path: ['athena'], message: 'source athena needs the athena table' });
  });

type Input = z.infer<typeof Schema>;

/** Every identity the step names: the explicit list plus the shorthand lists. */
function identitiesOf(input: Pick<Input, 'identities' | 'oidc_subjects' | 'role_arns' | 'access_key_ids'>): HuntedIdentity[] {
  return [
    ...(input.identities ?? []),
    ...(input.oidc_subjects ?? []).map((subject): HuntedIdentity => ({ kind: 'oidc-subject', subject })),
    ...(input.role_arns ?? []).map((roleArn): HuntedIdentity => ({ kind: 'role', roleArn })),
    ...(input.access_key_ids ?? []).map((accessKeyId): HuntedIdentity => ({ kind: 'access-key', accessKeyId })),
  ];
}

function requestOf(input: Input): HuntRequest {
  const { source, path, athena, identities: _identities, oidc_subjects: _subjects, role_arns: _roles, access_key_ids: _keys, ...huntInput } = input;
  return { source, path, athena, input: { ...huntInput, identities: identitiesOf(input) } };
}

/** The calls a hunt makes (all reads): what `plan()` shows and a dry run prints. */
function callsOf(input: Input): ApiCall[] {
  const tracker = new IdentityTracker(HuntInput.parse(requestOf(input).input));
  const filter = IdentityTracker.filterFor(tracker.all(), DEFENSE_EVASION_EVENTS, input.since, input.until);
  if (input.source === 'api') {
    return input.regions.flatMap((region) =>
      lookupsFor(filter).map((lookup) => ({
        service: 'cloudtrail',
        operation: 'LookupEvents',
        params: { region, LookupAttributes: [{ AttributeKey: lookup.key, AttributeValue: lookup.value }], MaxResults: 50 },
        mutating: false,
      })),
    );
  }
  if (input.source === 'athena') {
    return [{ service: 'athena', operation: 'StartQueryExecution', params: { QueryString: huntQuerySql(input.athena!, filter) }, mutating: false }];
  }
  return input.path!.startsWith('s3://') ? [{ service: 's3', operation: 'ListObjectsV2', params: { url: input.path }, mutating: false }] : [];
}

/**
 * Hunts CloudTrail for use of the compromised credentials: after the job ended, after
 * revocation (succeeded = containment failed), minted credentials followed transitively,
 * unusual sources, defense evasion. Read-only: it also runs during a dry run.
 */
export default defineAction<Input>({
  id: 'aws.hunt-cloudtrail',
  summary: 'Hunt CloudTrail for use of compromised credentials after their cutoffs (api, files or athena).',
  schema: Schema as unknown as z.ZodType<Input>,
  permissions: ['cloudtrail:LookupEvents', 's3:ListBucket', 's3:GetObject', 'athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'glue:GetTable'],
  mutating: false,
  outputs: {
    findings: 'number of findings',
    critical: 'number of critical findings (a call succeeded after revocation: containment failed)',
    identities: 'every identity hunted, including keys minted by the hunted ones',
    provisional: 'true when the window reached the last ~15 minutes (CloudTrail delivery lag)',
    minted_access_key_ids: 'long-term access keys (AKIA) that hunted identities minted: deactivate them',
  },
  example: {
    source: 'api',
    regions: ['us-east-1'],
    identities: [{ kind: 'access-key', accessKeyId: 'ASIAEXAMPLEJOBKEY001' }],
    cutoffs: { jobCompletedAt: '2026-11-20T12:10:00Z', revokedAt: '2026-11-20T12:30:00Z' },
  },
  async plan(_ctx, input) {
    return {
      changes: [],
      calls: callsOf(input),
      state: { identities: identitiesOf(input).length, source: input.source },
    };
  },
  async apply(ctx, input) {
    const result: HuntResult = await hunt({ ...requestOf(input), signal: ctx.signal }, ctx.clients, { now: ctx.now() });
    for (const finding of result.findings) ctx.finding(finding);
    const events = new Map<string, EvidenceByKind['cloudtrail-events']['events'][number]>();
    for (const finding of result.findings) for (const event of finding.evidence) events.set(event.eventID || `${event.eventTime}|${event.eventName}`, event);
    ctx.evidence('cloudtrail-events', { events: [...events.values()] } satisfies EvidenceByKind['cloudtrail-events']);
    // When each credential the hunt followed was issued (AssumeRoleWithWebIdentity, CreateAccessKey,
    // GetSessionToken...), as CloudTrail says: the report's exposure windows start there, not at a
    // lower bound such as the start of the job that could mint it.
    for (const identity of result.identities) {
      if (identity.origin !== 'minted' || !identity.issuedAt) continue;
      ctx.evidence('credential', {
        credential: identity.id,
        kind: identity.id.startsWith('ASIA') ? 'aws-role-sessions' : 'aws-access-key',
        event: 'issued',
        at: identity.issuedAt,
        detail: `issued by ${identity.via ?? 'a hunted identity'} (CloudTrail)`,
      } satisfies CredentialEvent);
    }
    if (result.stats.skipped.length) ctx.log(`hunt skipped ${result.stats.skipped.length} malformed input(s)`, 'warn');
    if (result.provisional) ctx.log('hunt window reaches the last 15 minutes: results are provisional (CloudTrail delivery lag)', 'warn');
    const summary = summarise(result);
    return {
      changed: false,
      outputs: {
        findings: summary.findings,
        critical: summary.critical,
        identities: result.identities.map((identity) => identity.id),
        provisional: result.provisional,
        minted_access_key_ids: result.identities
          .filter((identity) => identity.origin === 'minted' && /^AKIA[A-Z0-9]{12,}$/.test(identity.id))
          .map((identity) => identity.id),
      },
      findings: result.findings,
    };
  },
  async verify(_ctx, _input, result) {
    const critical = Number(result.outputs.critical ?? 0);
    return critical
      ? { verified: false, detail: `containment failed: ${critical} critical finding(s): a compromised credential was used successfully after its cutoff` }
      : { verified: true, detail: `no successful use after the cutoffs (${result.outputs.findings} finding(s))` };
  },
});
