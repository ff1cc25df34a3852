import { z } from 'zod';

/**
 * The report model: one schema is the TypeScript type, the runtime check of what the JSON
 * renderer writes, and (through `reportJsonSchema()`) the published docs/report.schema.json.
 * Times are ISO-8601 UTC (`Date#toISOString()`); the builder normalises every source to it.
 */

const isoTime = z.iso.datetime().describe('ISO-8601 UTC time');

export const SeveritySchema = z.enum(['critical', 'high', 'medium', 'low', 'info']);

/** Lanes of the visual timeline: what the attacker (or the compromised pipeline) did, what we saw, what we did. */
export const LaneSchema = z.enum(['attacker', 'detection', 'responder']);

/** Where an entry's fact comes from. `cicd-ir` is the journal itself (steps, findings). */
export const SourceSchema = z.enum(['github', 'aws', 'cloudtrail', 'cicd-ir']);

export const EntryKindSchema = z.enum([
  'workflow-run',
  'job-started',
  'job-completed',
  'cloudtrail-event',
  'credential',
  'step',
  'api-call',
  'finding',
  'run-start',
  'run-end',
]);

export const TimelineEntrySchema = z
  .object({
    /** Stable within one report: `e<seq>-<n>`; the HTML uses it as an anchor. */
    id: z.string(),
    at: isoTime,
    lane: LaneSchema,
    source: SourceSchema,
    kind: EntryKindSchema,
    /** Who did it: a GitHub login, a role session ARN, `cicd-ir`. */
    actor: z.string(),
    /** The credential or resource acting or acted on: access key id, step key, run id. */
    identity: z.string().optional(),
    summary: z.string(),
    severity: SeveritySchema.optional(),
    evidence: z
      .object({
        /** GitHub run page (html_url). */
        url: z.string().optional(),
        cloudtrailEventId: z.string().optional(),
        /** Sequence number of the journal record this entry comes from. */
        journalSeq: z.number().int().nonnegative(),
        requestId: z.string().optional(),
      })
      .strict(),
  })
  .strict();

export const TimeToContainSchema = z
  .object({
    status: z.enum(['contained', 'not-contained', 'plan-only', 'no-containment']),
    /** First mutating call (or applied mutating step). */
    firstMutationAt: isoTime.optional(),
    /** Last containment step verified. */
    lastVerifiedAt: isoTime.optional(),
    durationMs: z.number().int().nonnegative().optional(),
    /** Containment steps whose last phase is unverified, failed, compensated or missing a verify. */
    blocking: z.array(z.string()),
    text: z.string(),
  })
  .strict();

export const ExposureSchema = z
  .object({
    credential: z.string(),
    kind: z.string(),
    fingerprint: z.string().optional(),
    from: isoTime.optional(),
    /** issued: a credential `issued` record; job-start: the first job that could reach it; first-seen: first CloudTrail use. */
    fromBasis: z.enum(['issued', 'job-start', 'first-seen', 'unknown']),
    to: isoTime.optional(),
    status: z.enum(['revoked', 'rotated', 'deactivated', 'deleted', 'expired', 'running', 'open']),
    durationMs: z.number().int().nonnegative().optional(),
    /** CloudTrail events made with this credential (denied ones included). */
    uses: z.number().int().nonnegative(),
    lastUsedAt: isoTime.optional(),
    /** Successful CloudTrail calls after `to`: a containment failure. */
    usedAfterClose: z.number().int().nonnegative(),
  })
  .strict();

export const InventoryKindSchema = z.enum(['repo-secret', 'environment-secret', 'org-secret', 'oidc-role', 'github-token', 'all-secrets']);

export const CredentialStatusSchema = z
  .object({
    kind: InventoryKindSchema,
    name: z.string(),
    scope: z.string(),
    jobs: z.array(z.string()),
    rotation: z.string(),
    status: z.enum(['rotated', 'revoked', 'deactivated', 'deleted', 'expired', 'open']),
    at: isoTime.optional(),
    open: z.boolean(),
    note: z.string().optional(),
  })
  .strict();

export const StepProblemSchema = z
  .object({ key: z.string(), action: z.string(), at: isoTime, detail: z.string(), journalSeq: z.number().int().nonnegative() })
  .strict();

export const MetricsSchema = z
  .object({
    timeToContain: TimeToContainSchema,
    exposure: z.array(ExposureSchema),
    credentials: z
      .object({
        reachable: z.number().int().nonnegative(),
        closed: z.number().int().nonnegative(),
        open: z.number().int().nonnegative(),
        items: z.array(CredentialStatusSchema),
        /** Jobs that reach every secret (toJSON(secrets), a dynamic index): every secret is reachable. */
        everySecretReachableBy: z.array(z.string()),
      })
      .strict(),
    findingsBySeverity: z
      .object({
        critical: z.number().int().nonnegative(),
        high: z.number().int().nonnegative(),
        medium: z.number().int().nonnegative(),
        low: z.number().int().nonnegative(),
        info: z.number().int().nonnegative(),
      })
      .strict(),
    steps: z
      .object({
        total: z.number().int().nonnegative(),
        verified: z.number().int().nonnegative(),
        /** Steps whose `if:` was false (or that were skipped for another reason): not run, so neither verified nor a problem. */
        skipped: z.number().int().nonnegative(),
        unverified: z.array(StepProblemSchema),
        failed: z.array(StepProblemSchema),
      })
      .strict(),
  })
  .strict();

/** One thing not done: what the verdict lists, the CLI prints, and report.md/html/json show (one list). */
export const OpenItemSchema = z
  .object({
    /** Stable within a run: `step:<key>`, `credential:<kind>:<scope>:<name>`, `exposure:<credential>`, `finding:<journal seq>`, `hunt`, `coverage:<scope>:<id>`, `run:<what>`. */
    id: z.string(),
    kind: z.enum(['step', 'credential', 'exposure', 'finding', 'hunt', 'coverage', 'run']),
    severity: SeveritySchema,
    /** Whether it keeps the run from being contained (exit 3, or 1 for a failed step). High findings are listed to act on but do not block. */
    blocking: z.boolean(),
    /** What it is about: a step key, a credential or secret name, a finding's resource, an account or region. */
    resource: z.string(),
    summary: z.string(),
    /** Why it is open. */
    reason: z.string(),
    /** What the responder does about it. */
    action: z.string(),
    journalSeq: z.number().int().nonnegative().optional(),
    /** A human took responsibility for it (`cicd-ir ack`): it no longer blocks. */
    acknowledged: z
      .object({ by: z.string(), reason: z.string(), at: z.string(), journalSeq: z.number().int().nonnegative() })
      .strict()
      .optional(),
  })
  .strict();

/** The containment verdict (src/report/verdict.ts): the one answer the CLI, the reports and the drill give. */
export const VerdictSchema = z
  .object({
    /** True only when nothing in the attacker's reach is open and no critical finding is open. */
    contained: z.boolean(),
    status: z.enum(['contained', 'not-contained', 'plan-only']),
    /** The process exit code this verdict means: 0 contained, 1 a step failed, 3 a human must act (see README, Exit codes). */
    exitCode: z.number().int().nonnegative(),
    /** The headline: `contained in 2 s`, `NOT CONTAINED: 3 open item(s) need a human`, `PLAN ONLY ...`. */
    text: z.string(),
    /** Time to contain, only when contained. */
    durationMs: z.number().int().nonnegative().optional(),
    /** How many open items block containment. */
    blocking: z.number().int().nonnegative(),
    /** Blocking items first, then by severity. */
    openItems: z.array(OpenItemSchema),
    /** Critical findings in the journal (settled or not). */
    criticalFindings: z.number().int().nonnegative(),
    /** Items that would block but a human acknowledged (`cicd-ir ack`); listed in openItems with `acknowledged`. */
    acknowledged: z.number().int().nonnegative().optional(),
  })
  .strict();

export const ReportFindingSchema = z
  .object({
    kind: z.string(),
    severity: SeveritySchema,
    resource: z.string(),
    summary: z.string(),
    at: isoTime.optional(),
    journalSeq: z.number().int().nonnegative(),
  })
  .strict();

export const ReportSchema = z
  .object({
    schemaVersion: z.literal(1),
    runId: z.string(),
    incident: z.string().optional(),
    playbook: z.string().optional(),
    dryRun: z.boolean(),
    /**
     * The run's status as the verdict reads it: `succeeded` only when contained (exit 0),
     * `needs-human` when it ended but something is open (exit 3), `failed` (exit 1), `planned`
     * (dry run), or `incomplete` when the journal has no run-end (crash, still running).
     */
    status: z.enum(['succeeded', 'failed', 'needs-human', 'planned', 'incomplete']),
    /** The containment verdict and its exit code; its open items are the report's one list. */
    verdict: VerdictSchema,
    /** Set on a dry run: "PLAN ONLY — nothing was changed". */
    notice: z.string().optional(),
    startedAt: isoTime.optional(),
    endedAt: isoTime.optional(),
    generatedAt: isoTime,
    metrics: MetricsSchema,
    findings: z.array(ReportFindingSchema),
    entries: z.array(TimelineEntrySchema),
    /** Problems met while reading the journal (torn line, unknown evidence). */
    warnings: z.array(z.string()),
  })
  .strict()
  .describe('cicd-ir timeline report');

export type Severity = z.infer<typeof SeveritySchema>;
export type Lane = z.infer<typeof LaneSchema>;
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;
export type TimeToContain = z.infer<typeof TimeToContainSchema>;
export type Exposure = z.infer<typeof ExposureSchema>;
export type CredentialStatus = z.infer<typeof CredentialStatusSchema>;
export type StepProblem = z.infer<typeof StepProblemSchema>;
export type Metrics = z.infer<typeof MetricsSchema>;
export type OpenItem = z.infer<typeof OpenItemSchema>;
export type Verdict = z.infer<typeof VerdictSchema>;
export type ReportFinding = z.infer<typeof ReportFindingSchema>;
/** The whole report: what `buildTimeline` returns and every renderer takes. */
export type Timeline = z.infer<typeof ReportSchema>;

export const PLAN_ONLY_NOTICE = 'PLAN ONLY — nothing was changed';

export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/** The JSON Schema of report.json, as committed at docs/report.schema.json. */
export function reportJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ReportSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: 'cicd-ir report',
    ...schema,
  };
}

/** The committed file's exact text (2-space JSON, trailing newline). */
export function reportJsonSchemaText(): string {
  return `${JSON.stringify(reportJsonSchema(), null, 2)}\n`;
}
