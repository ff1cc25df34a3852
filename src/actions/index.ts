import type { ActionDefinition } from './define.js';
import huntCloudtrail from './aws/hunt-cloudtrail.js';

/**
 * The registry: every action a playbook can use, as a plain list. A new action adds its file
 * and one line here. Only what is really implemented is listed.
 */
export const actions: readonly ActionDefinition[] = [
  huntCloudtrail,
];

export function findAction(id: string): ActionDefinition | undefined {
  return actions.find((action) => action.id === id);
}
