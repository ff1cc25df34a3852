import { ListAccessKeysCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { ActionContext } from '../../../engine/context.js';
import { explainIamError } from './step.js';

/** One access key of a user as ListAccessKeys describes it (never the secret: IAM returns it only once). */
export interface AccessKeyInfo {
  id: string;
  status: 'Active' | 'Inactive';
  created?: string;
}

/** Lists a user's access keys (at most two exist; paginated anyway). */
export async function listAccessKeys(ctx: ActionContext, client: IAMClient, user: string): Promise<AccessKeyInfo[]> {
  const keys: AccessKeyInfo[] = [];
  let marker: string | undefined;
  try {
    do {
      const page = await client.send(new ListAccessKeysCommand({ UserName: user, Marker: marker }), { abortSignal: ctx.signal });
      for (const key of page.AccessKeyMetadata ?? []) {
        if (!key.AccessKeyId) continue;
        keys.push({ id: key.AccessKeyId, status: key.Status === 'Inactive' ? 'Inactive' : 'Active', created: key.CreateDate?.toISOString() });
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
  } catch (error) {
    throw explainIamError(ctx, error, `user ${user}: ListAccessKeys`);
  }
  return keys;
}

/** An access key id, for `with:` validation. */
export const ACCESS_KEY_ID = /^AKIA[A-Z0-9]{12,124}$/;
