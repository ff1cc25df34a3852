import type { z } from 'zod';
import type { ActionContext } from '../engine/context.js';

/** One API call an action makes or would make. `plan()` lists them; `--dry-run` prints them. */
export interface ApiCall {
  /** `github`, `iam`, `sts`, `cloudtrail`, `athena`, `s3`, `npm`. */
  service: string;
  /** GitHub: `PUT /repos/{owner}/{repo}/actions/workflows/{workflow_id}/disable`; AWS: `PutRolePolicy`. */
  operation: string;
  /** Concrete parameters. Secret values appear only as Secret objects (they print as fingerprints). */
  params: Record<string, unknown>;
  mutating: boolean;
  /** Account id or host, when not the default. */
  target?: string;
}

/** One change to the world, before and after, as a human reviews it. */
export interface PlannedChange {
  /** What changes: `github:o/r/workflows/deploy.yml`, `arn:aws:iam::111122223333:role/deploy`. */
  resource: string;
  /** A short verb: `disable`, `put-inline-policy`, `update-trust-policy`. */
  action: string;
  summary: string;
  before?: unknown;
  after?: unknown;
  /** Line diff of before/after as a human reads it (`- `, `+ `, `  ` prefixes), when the change is a document. */
  diff?: string[];
}

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

/** Something an action or the hunt found that a responder must know. */
export interface Finding {
  /** `used-after-revocation`, `trust-admits-any-repo`, `secret-in-log`, ... */
  kind: string;
  severity: Severity;
  resource: string;
  summary: string;
  /** When it happened (ISO), for the timeline. */
  at?: string;
  /** Evidence: CloudTrail events, run ids, log lines (never secret values). */
  evidence?: unknown[];
}

/** What `plan()` returns: pure data, serialisable to JSON. */
export interface ActionPlan {
  changes: PlannedChange[];
  /** The calls apply() would make, in order. Reads apply() repeats may be listed with mutating: false. */
  calls: ApiCall[];
  findings?: Finding[];
  /** What plan read that apply needs (serialisable, no secrets). */
  state?: unknown;
}

export interface ApplyResult {
  /** False when the world was already as wanted (idempotent re-run). */
  changed: boolean;
  /** Step outputs for later steps. Secret objects for `secretOutputs`; never plain secret strings. */
  outputs: Record<string, unknown>;
  /** What restore/compensate needs to undo this (e.g. the old trust policy). Journalled. */
  undo?: unknown;
  findings?: Finding[];
  requestIds?: string[];
}

export interface VerifyResult {
  verified: boolean;
  detail: string;
}

/** An action a playbook step can `uses:`. One file per action; id `provider.verb-noun` matches the path. */
export interface ActionDefinition<Input = any> {
  id: string;
  summary: string;
  /** Strict schema of the step's `with:` block. */
  schema: z.ZodType<Input>;
  /** IAM actions (`iam:PutRolePolicy`) and GitHub permissions (`github:actions:write`). */
  permissions: string[];
  /** False for read-only actions (inventory, evidence, hunt): they also run during a dry run. */
  mutating: boolean;
  /**
   * It takes something away from the attacker (a token, a key, a session, a trust, a running
   * workflow): its attempts get engine slots and paced GitHub writes before other changes
   * (rotating secrets back in, purging caches, deleting logs), which go before read-only work.
   */
  closesCredential?: boolean;
  /** Output names and what they hold; validation checks `steps.x.outputs.y` against it. */
  outputs: Record<string, string>;
  /** Outputs that hold Secret objects (never printed, journalled as fingerprints). */
  secretOutputs?: string[];
  /** A `with:` block that validates: the registry test and `actions list` use it. */
  example: Record<string, unknown>;
  plan(ctx: ActionContext, input: Input): Promise<ActionPlan>;
  apply(ctx: ActionContext, input: Input, plan: ActionPlan): Promise<ApplyResult>;
  verify(ctx: ActionContext, input: Input, result: ApplyResult): Promise<VerifyResult>;
  /** Undo (restore): gets what apply returned, including `undo`. */
  compensate?(ctx: ActionContext, input: Input, result: ApplyResult): Promise<ApplyResult>;
}

/** Declares an action; the identity function that gives its definition a checked type. */
export function defineAction<Input>(definition: ActionDefinition<Input>): ActionDefinition<Input> {
  return definition;
}
