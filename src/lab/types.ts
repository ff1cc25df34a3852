import type { ProviderConfig } from '../providers/config.js';

/** One HTTP request the lab served: tests assert "a dry run made zero mutating calls" on these. */
export interface LabRequest {
  at: string;
  service: 'github' | 'iam' | 'sts' | 'cloudtrail';
  method: string;
  /** GitHub: the path; AWS: the Action / X-Amz-Target operation name. */
  operation: string;
  mutating: boolean;
  status: number;
  /** Fault injected, if any. */
  fault?: string;
}

/** Fault injection, per operation or global, seeded so a failure reproduces. */
export interface FaultProfile {
  name: string;
  rules: FaultRule[];
}

export interface FaultRule {
  /** Which requests: service and an operation pattern (`*`, `PutRolePolicy`, `POST /repos/*`). */
  service?: LabRequest['service'] | '*';
  operation?: string;
  /** Added latency in ms: fixed, or uniform between min and max. */
  latencyMs?: number | { min: number; max: number };
  /** Probability (0..1) of answering with an error instead of serving. */
  errorRate?: number;
  error?: 'throttle' | '5xx' | 'timeout';
  /** Retry-After seconds for throttling answers. */
  retryAfterSeconds?: number;
  /** Every matching request fails during [startMs, startMs + durationMs) after lab start. */
  partition?: { startMs: number; durationMs: number };
}

/** A running lab. */
export interface Lab {
  /** The same config real use builds from flags and env, pointing at the lab. */
  readonly providerConfig: Omit<ProviderConfig, 'dryRun' | 'incident' | 'onApiCall'>;
  readonly endpoints: { github: string; iam: string; sts: string; cloudtrail: string };
  /** When the lab started: offsets in the scenario are relative to it. */
  readonly startedAt: Date;
  requests(): LabRequest[];
  /** Plays the attacker's `after-containment` steps now; returns what happened to each. */
  attack(phase: 'after-containment'): Promise<Array<{ call: string; credential: string; outcome: 'success' | 'denied' }>>;
  close(): Promise<void>;
}
