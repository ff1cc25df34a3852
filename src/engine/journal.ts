import type { ActionPlan, Finding, VerifyResult } from '../actions/define.js';
import type { ApiCallRecord } from '../providers/config.js';

/**
 * The journal: `.cicd-ir/runs/<run-id>/journal.jsonl`, one JSON record a line, appended and
 * fsynced per record. The report, hunt, restore and resume read these records; secrets appear
 * only as fingerprints (Secret.toJSON) and every line passes through redact().
 */
export type JournalRecord = JournalBase &
  (
    | {
        type: 'run-start';
        playbook: string;
        playbookHash: string;
        inputs: Record<string, unknown>;
        dryRun: boolean;
        incident: string;
      }
    | {
        type: 'step';
        /** Step id as written in the playbook. */
        step: string;
        /** Step id plus for_each index: `rotate[1]`. */
        key: string;
        action: string;
        phase: 'start' | 'planned' | 'applied' | 'verified' | 'unverified' | 'failed' | 'skipped' | 'compensated';
        /** sha256 of the evaluated input: resume re-applies nothing whose hash matches a completed apply. */
        inputHash: string;
        input?: unknown;
        plan?: ActionPlan;
        result?: { changed: boolean; outputs: Record<string, unknown>; undo?: unknown; requestIds?: string[] };
        verify?: VerifyResult;
        error?: { message: string; name?: string };
        durationMs?: number;
      }
    | ({ type: 'api-call'; step?: string } & ApiCallRecord)
    | { type: 'evidence'; step?: string; kind: string; data: unknown }
    | { type: 'finding'; step?: string; finding: Finding }
    | { type: 'run-end'; status: 'succeeded' | 'failed' | 'needs-human' | 'planned'; exitCode: number }
  );

export interface JournalBase {
  v: 1;
  seq: number;
  at: string;
  runId: string;
}
