import type { ProviderConfig } from '../providers/config.js';

/** One HTTP request the lab served: tests assert "a dry run made zero mutating calls" on these. */
export interface LabRequest {
  at: string;
  service: 'github' | 'iam' | 'sts' | 'cloudtrail' | 'npm' | 'organizations' | 'account' | 'ec2';
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
  /**
   * The product's clients pace GitHub writes as they do against github.com (1 s apart, at most
   * 80 a minute) instead of the lab's default of no pacing: benchmarks measure at production pace.
   */
  productionPacing?: boolean;
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
  readonly endpoints: { github: string; iam: string; sts: string; cloudtrail: string; npm?: string; organizations?: string; account?: string; ec2?: string };
  /** When the lab started: offsets in the scenario are relative to it. */
  readonly startedAt: Date;
  requests(): LabRequest[];
  /** Plays the attacker's `after-containment` steps now; returns what happened to each. */
  attack(phase: 'after-containment'): Promise<Array<{ call: string; credential: string; outcome: 'success' | 'denied' }>>;
  close(): Promise<void>;
}

/** A request as a lab service sees it. */
export interface LabHttpRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface LabHttpResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** One emulated service; src/lab/index.ts serves each on its own loopback port. */
export interface LabService {
  readonly name: LabRequest['service'];
  /** The operation name for the request log and fault matching (`PutRolePolicy`, `PUT /repos/{owner}/{repo}/...`). */
  operation(request: LabHttpRequest): string;
  mutating(request: LabHttpRequest): boolean;
  handle(request: LabHttpRequest): Promise<LabHttpResponse>;
  /** The error body this service's protocol uses for an injected fault. */
  faultResponse(kind: 'throttle' | '5xx', retryAfterSeconds?: number): LabHttpResponse;
}

/** What every lab service shares. */
export interface LabContext {
  readonly startedAt: Date;
  /** Wall-clock now (the lab runs on real time; scenario offsets are relative to startedAt). */
  now(): Date;
  /** An absolute time for a scenario offset. */
  at(offset: string): Date;
  /** Deterministic random numbers from the scenario seed. */
  random(): number;
  /** The lab's CloudTrail: AWS services record every call (the product's and the attacker's) here. */
  readonly trail: TrailSink;
  /** Directory of the scenario file (for `file:` references). */
  readonly scenarioDir: string;
}

/** A CloudTrail record as AWS writes it (the `CloudTrailEvent` JSON of LookupEvents). */
export type CloudTrailRecord = Record<string, unknown> & {
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  eventID: string;
};

export interface TrailSink {
  record(event: CloudTrailRecord): void;
  all(): readonly CloudTrailRecord[];
}
