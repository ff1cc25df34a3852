import type { FaultProfile } from './types.js';

/**
 * The lab's named fault profiles, for drills (`--faults NAME`) and the reliability suite.
 * Every draw comes from the scenario's seeded generator, so a failing drill replays exactly.
 */
export const faultProfiles: Record<string, FaultProfile> = {
  none: { name: 'none', rules: [] },
  /** GitHub answers 20% of requests with a 5xx and throttles 5% with the secondary rate limit. */
  'flaky-github': {
    name: 'flaky-github',
    rules: [
      { service: 'github', operation: '*', errorRate: 0.2, error: '5xx' },
      { service: 'github', operation: '*', errorRate: 0.05, error: 'throttle', retryAfterSeconds: 1 },
    ],
  },
  /** IAM and STS throttle 30% of calls (AWS `Throttling`), as during an org-wide incident. */
  'aws-throttled': {
    name: 'aws-throttled',
    rules: [
      { service: 'iam', operation: '*', errorRate: 0.3, error: 'throttle' },
      { service: 'sts', operation: '*', errorRate: 0.3, error: 'throttle' },
    ],
  },
  /** Every service drops connections for 60 s starting 2 s after the lab starts. */
  'partition-60s': {
    name: 'partition-60s',
    rules: [{ service: '*', operation: '*', partition: { startMs: 2_000, durationMs: 60_000 } }],
  },
  /** A short partition (5 s), shorter than a step timeout: retries should ride it out. */
  'partition-5s': {
    name: 'partition-5s',
    rules: [{ service: '*', operation: '*', partition: { startMs: 500, durationMs: 5_000 } }],
  },
  /** 150 ms per call on every service: the latency the benchmarks use. */
  'latency-150ms': {
    name: 'latency-150ms',
    rules: [{ service: '*', operation: '*', latencyMs: 150 }],
  },
  /** 150 ms per call, and GitHub writes paced as against github.com (1 s apart, 80 a minute): the contain bench. */
  'latency-150ms-production-pacing': {
    name: 'latency-150ms-production-pacing',
    rules: [{ service: '*', operation: '*', latencyMs: 150 }],
    productionPacing: true,
  },
  /** Latency spread between 20 and 400 ms. */
  'latency-jitter': {
    name: 'latency-jitter',
    rules: [{ service: '*', operation: '*', latencyMs: { min: 20, max: 400 } }],
  },
};

/** Names of the fault profiles, for flag options and messages. */
export const faultProfileNames = Object.keys(faultProfiles);
