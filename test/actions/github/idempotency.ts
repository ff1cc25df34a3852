import { expect } from 'vitest';
import type { ActionDefinition, ApplyResult } from '../../../src/actions/define.js';
import type { ActionContext } from '../../../src/engine/context.js';

/**
 * The contract every mutating action keeps (STYLE.md 6): plan shows a change, apply makes it,
 * verify reads it back, plan again shows none, apply again is changed: false.
 */
export async function expectIdempotent(action: ActionDefinition, ctx: ActionContext, withBlock: Record<string, unknown>): Promise<{ first: ApplyResult; second: ApplyResult }> {
  const input = action.schema.parse(withBlock);
  const plan = await action.plan(ctx, input);
  expect(plan.changes.length).toBeGreaterThan(0);
  const first = await action.apply(ctx, input, plan);
  expect(first.changed).toBe(true);
  const verified = await action.verify(ctx, input, first);
  expect(verified, verified.detail).toMatchObject({ verified: true });
  const again = await action.plan(ctx, input);
  expect(again.changes).toEqual([]);
  const second = await action.apply(ctx, input, again);
  expect(second.changed).toBe(false);
  return { first, second };
}
