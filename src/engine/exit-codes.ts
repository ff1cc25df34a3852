/**
 * The process exit codes of every cicd-ir command. README documents the same table.
 */
export const ExitCode = {
  /** Contained and verified (or: the command did what it was asked). */
  Ok: 0,
  /** A step failed. */
  StepFailed: 1,
  /** Bad input: playbook, flags or scenario rejected before any API call. */
  BadInput: 2,
  /** Finished, but something needs a human: a step is unverified or partial. */
  NeedsHuman: 3,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
