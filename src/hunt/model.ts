import { z } from 'zod';
import type { Finding } from '../actions/define.js';
import type { EvidenceByKind } from '../engine/evidence.js';

const IsoTime = z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'an ISO-8601 time');

/** When a credential should have stopped working. All optional; each check uses the ones it needs. */
export const Cutoffs = z
  .object({
    /** The job's `completed_at`: its session key used after this (+ skew) outlived the job. */
    jobCompletedAt: IsoTime.optional(),
    /** When role sessions were revoked (AWSRevokeOlderSessions) or the OIDC trust was tightened. */
    revokedAt: IsoTime.optional(),
    /** When an IAM user access key was set Inactive. */
    deactivatedAt: IsoTime.optional(),
  })
  .strict();
export type Cutoffs = z.infer<typeof Cutoffs>;

/** One compromised identity. Plain JSON so `contain` can build it from its journal. */
export const HuntedIdentity = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('access-key'), accessKeyId: z.string().regex(/^(AKIA|ASIA)[A-Z0-9]{12,}$/), cutoffs: Cutoffs.optional() }).strict(),
  z.object({ kind: z.literal('role'), roleArn: z.string().startsWith('arn:'), sessionName: z.string().optional(), cutoffs: Cutoffs.optional() }).strict(),
  z.object({ kind: z.literal('user'), userName: z.string().min(1), cutoffs: Cutoffs.optional() }).strict(),
  z.object({ kind: z.literal('oidc-subject'), subject: z.string().min(1), cutoffs: Cutoffs.optional() }).strict(),
]);
export type HuntedIdentity = z.infer<typeof HuntedIdentity>;

/** What a hunt looks for. Serialisable; `contain` and the `aws.hunt-cloudtrail` action pass it as is. */
export const HuntInput = z
  .object({
    /** Empty is allowed: a hunt with nothing in reach still looks for defense evasion (the CLI asks for one). */
    identities: z.array(HuntedIdentity),
    /** Defaults for every identity that has none of its own. */
    cutoffs: Cutoffs.default({}),
    /** Margin after the job's completed_at before a call counts as "after the job" (clock skew, SDK retries). */
    skewSeconds: z.number().int().nonnegative().default(300),
    /** The compromise window. Events before `since` are the baseline for unusual-source. */
    since: IsoTime.optional(),
    until: IsoTime.optional(),
    /** How far before `since` the baseline reaches (api/athena scan from since - baselineDays). */
    baselineDays: z.number().int().nonnegative().default(7),
    regions: z.array(z.string()).default(['us-east-1']),
  })
  .strict();
export type HuntInput = z.infer<typeof HuntInput>;
export type HuntInputJson = z.input<typeof HuntInput>;

/** A CloudTrail record as it is delivered (the `CloudTrailEvent` JSON, or one entry of `Records`). */
export type TrailRecord = Record<string, any>;

/** The trimmed form of an event carried as evidence: `cloudtrail-events` in src/engine/evidence.ts. */
export type EvidenceEvent = EvidenceByKind['cloudtrail-events']['events'][number];

export type HuntFindingKind =
  | 'used-after-revocation'
  | 'denied-after-revocation'
  | 'used-after-job-end'
  | 'new-credentials-minted'
  | 'unusual-source'
  | 'defense-evasion'
  /** A hunted identity read a secret (Secrets Manager, SSM SecureString, KMS Decrypt, S3 object): rotate it. */
  | 'secret-read';

/** A hunt finding: a `Finding` whose evidence is trimmed CloudTrail events. */
export interface HuntFinding extends Finding {
  kind: HuntFindingKind;
  /** The hunted identity it is about (key id, role ARN, user, subject). */
  identity: string;
  evidence: EvidenceEvent[];
}

/** A file or object that could not be read, reported instead of crashing the scan. */
export interface SkippedInput {
  path: string;
  reason: string;
}

export interface ScanStats {
  /** Records read from the source (files: every record; api: every event returned). */
  recordsRead: number;
  /** Records that matched a hunted identity or a defense-evasion event name. */
  recordsMatched: number;
  /**
   * Records with no usable eventTime (kept out of time-based checks). The files source parses
   * only records that can match (unless validating), so it counts those among them.
   */
  undated: number;
  filesRead: number;
  skipped: SkippedInput[];
  /** api: LookupEvents requests made, per region. */
  requests?: Record<string, number>;
  /** Rounds of the transitive fixpoint (1 when nothing new was minted). */
  rounds: number;
}

export interface HuntResult {
  findings: HuntFinding[];
  /** Every identity hunted, including those discovered by following minted credentials. */
  identities: Array<{ id: string; origin: 'input' | 'minted'; via?: string; /** When CloudTrail shows a minted credential issued. */ issuedAt?: string }>;
  stats: ScanStats;
  /** True when the scan reached into the last ~15 minutes: CloudTrail delivery may still add events. */
  provisional: boolean;
  scannedAt: string;
}
