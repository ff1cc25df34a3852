import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onInterrupt } from '../engine/interrupt.js';
import type { RunningLab } from '../lab/index.js';

/** A command's flags as the lab's scenario gives them (`incident:` block), offsets made absolute. */
export interface LabIncident {
  repos?: string[];
  workflow?: string;
  roles?: string[];
  since?: string;
  incident?: string;
  awsUser?: string;
  alsoWorkflows?: string[];
  awsKeyIdSecret?: string;
  awsSecretKeySecret?: string;
  /** Leaked token values the responders hold (written to a tokens file by withTokensFile). */
  leakedTokens?: string[];
  npmPackages?: string[];
  npmReleaseWorkflow?: string;
}

/** The scenario's incident block as flag values. */
export function labIncident(lab: RunningLab): LabIncident {
  const incident = lab.scenario.incident;
  if (!incident) return { incident: lab.scenario.name };
  return {
    repos: incident.repos,
    workflow: incident.workflow,
    roles: incident.roles,
    ...(incident.since && { since: lab.context.at(incident.since).toISOString() }),
    incident: lab.scenario.name,
    ...(incident.aws_user && { awsUser: incident.aws_user }),
    ...(incident.also_workflows.length > 0 && { alsoWorkflows: incident.also_workflows }),
    ...(incident.aws_key_id_secret && { awsKeyIdSecret: incident.aws_key_id_secret }),
    ...(incident.aws_secret_key_secret && { awsSecretKeySecret: incident.aws_secret_key_secret }),
    ...(incident.leaked_tokens.length > 0 && { leakedTokens: incident.leaked_tokens }),
    ...(incident.npm_packages.length > 0 && { npmPackages: incident.npm_packages }),
    ...(incident.npm_release_workflow && { npmReleaseWorkflow: incident.npm_release_workflow }),
  };
}

/**
 * Runs `work` with the path of a tokens file holding `tokens` (one a line, mode 0600, in a
 * private temp folder removed afterwards), or with undefined when there are none: the file a
 * responder's leak scan would have produced, for github.revoke-tokens.
 */
export async function withTokensFile<T>(tokens: readonly string[] | undefined, work: (file: string | undefined) => Promise<T>): Promise<T> {
  if (!tokens?.length) return work(undefined);
  const dir = await mkdtemp(join(tmpdir(), 'cicd-ir-tokens-'));
  // A Ctrl-C or SIGTERM must not leave live token values in /tmp.
  const unregister = onInterrupt(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'leaked-tokens.txt');
  try {
    await writeFile(file, `${tokens.join('\n')}\n`, { mode: 0o600 });
    return await work(file);
  } finally {
    unregister();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `work` with a lab started from `scenarioFile` (or with none when it is undefined) and
 * always closes the lab. The lab module is imported only when a lab is asked for.
 */
export async function withLab<T>(scenarioFile: string | undefined, faults: string | undefined, work: (lab: RunningLab | undefined) => Promise<T>): Promise<T> {
  if (!scenarioFile) return work(undefined);
  const { startLab } = await import('../lab/index.js');
  const lab = await startLab(scenarioFile, { ...(faults && { faults }) });
  try {
    return await work(lab);
  } finally {
    await lab.close();
  }
}
