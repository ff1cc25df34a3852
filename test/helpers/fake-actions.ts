import { z } from 'zod';
import { defineAction, type ActionDefinition } from '../../src/actions/define.js';

/**
 * Small actions for engine tests: the real registry fills up in parallel branches, and the
 * validator must not depend on which actions exist. They plan and apply nothing real.
 */
function fake(id: string, schema: z.ZodType, outputs: Record<string, string>, example: Record<string, unknown>, mutating = true): ActionDefinition {
  return defineAction({
    id,
    summary: `test action ${id}`,
    schema,
    permissions: [`test:${id}`],
    mutating,
    outputs,
    example,
    plan: async () => ({ changes: [], calls: [] }),
    apply: async () => ({ changed: false, outputs: {} }),
    verify: async () => ({ verified: true, detail: 'fake' }),
  });
}

export const disableWorkflow = fake(
  'github.disable-workflow',
  z.strictObject({ repo: z.string().regex(/^[^/]+\/[^/]+$/), workflow: z.string().min(1) }),
  { workflow_id: 'numeric id', state: 'state after' },
  { repo: 'acme/app', workflow: 'deploy.yml' },
);

export const cancelRuns = fake(
  'github.cancel-runs',
  z.strictObject({ repo: z.string(), workflow: z.string(), force: z.boolean().default(true), max: z.int().min(1).optional() }),
  { cancelled: 'run ids cancelled' },
  { repo: 'acme/app', workflow: 'deploy.yml' },
);

export const revokeSessions = fake(
  'aws.revoke-role-sessions',
  z.strictObject({ role_arns: z.array(z.string().startsWith('arn:aws:iam::')).min(1), cutoff: z.string().optional() }),
  { revoked_at: 'cutoff time' },
  { role_arns: ['arn:aws:iam::111122223333:role/deploy'] },
);

export const fakeActions: readonly ActionDefinition[] = [disableWorkflow, cancelRuns, revokeSessions];
