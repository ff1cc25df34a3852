import type { ActionDefinition } from './define.js';
import huntCloudtrail from './aws/hunt-cloudtrail.js';
import { cancelRuns } from './github/cancel-runs.js';
import { collectEvidence } from './github/collect-evidence.js';
import { deleteDeployKey } from './github/delete-deploy-key.js';
import { deleteSecret } from './github/delete-secret.js';
import { disableActions } from './github/disable-actions.js';
import { disableWorkflow } from './github/disable-workflow.js';
import { findWorkflowUses } from './github/find-workflow-uses.js';
import { inventory } from './github/inventory.js';
import { resolveRepos } from './github/resolve-repos.js';
import { revokeTokens } from './github/revoke-tokens.js';
import { rotateSecret } from './github/rotate-secret.js';
import { deactivateAccessKey } from './aws/deactivate-access-key.js';
import { deleteAccessKey } from './aws/delete-access-key.js';
import { findRoles } from './aws/find-roles.js';
import { restrictOidcTrust } from './aws/restrict-oidc-trust.js';
import { revokeRoleSessions } from './aws/revoke-role-sessions.js';
import { revokeUserSessions } from './aws/revoke-user-sessions.js';
import { rotateAccessKey } from './aws/rotate-access-key.js';
import { auditRuns } from './github/audit-runs.js';
import { deleteRunLogs } from './github/delete-run-logs.js';
import { purgeCaches } from './github/purge-caches.js';
import { scanRunLogs } from './github/scan-run-logs.js';
import { auditPublishes } from './npm/audit-publishes.js';
import { revokeToken } from './npm/revoke-token.js';

/**
 * The registry: every action a playbook can use, as a plain list. A new action adds its file
 * and one line here. Only what is really implemented is listed.
 */
export const actions: readonly ActionDefinition[] = [
  collectEvidence,
  disableWorkflow,
  cancelRuns,
  disableActions,
  inventory,
  findWorkflowUses,
  rotateSecret,
  deleteSecret,
  deleteDeployKey,
  revokeTokens,
  huntCloudtrail,
  findRoles,
  restrictOidcTrust,
  revokeRoleSessions,
  revokeUserSessions,
  rotateAccessKey,
  deactivateAccessKey,
  deleteAccessKey,
  scanRunLogs,
  deleteRunLogs,
  purgeCaches,
  auditRuns,
  revokeToken,
  auditPublishes,
  resolveRepos,
];

export function findAction(id: string): ActionDefinition | undefined {
  return actions.find((action) => action.id === id);
}
