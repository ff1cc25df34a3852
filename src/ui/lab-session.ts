import type { RunningLab } from '../lab/index.js';

/** A command's flags as the lab's scenario gives them (`incident:` block), offsets made absolute. */
export interface LabIncident {
  repos?: string[];
  workflow?: string;
  roles?: string[];
  since?: string;
  incident?: string;
  awsUser?: string;
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
  };
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
