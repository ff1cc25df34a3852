import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { RemoteFile } from './files.js';

/** Splits `s3://bucket/prefix` into its parts. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match) throw new Error(`not an s3:// URL: ${url}`);
  return { bucket: match[1]!, prefix: match[2]! };
}

const DATA_KEY = /\.(json|jsonl|ndjson)(\.gz)?$|\.gz$/i;
const DAY_IN_KEY = /\/CloudTrail\/[^/]+\/(\d{4})\/(\d{2})\/(\d{2})\//;

/**
 * Lists the CloudTrail objects under an S3 prefix (the AWSLogs layout
 * `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`), skipping day folders outside the
 * window. Folders are by delivery time, so the window is widened by a day each side.
 */
export async function* listS3Files(client: S3Client, url: string, window: { from?: string; to?: string } = {}): AsyncIterable<RemoteFile> {
  const { bucket, prefix } = parseS3Url(url);
  const from = window.from ? new Date(Date.parse(window.from) - 86_400_000).toISOString().slice(0, 10) : undefined;
  const to = window.to ? new Date(Date.parse(window.to) + 86_400_000).toISOString().slice(0, 10) : undefined;
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      const key = object.Key!;
      if (!DATA_KEY.test(key)) continue;
      const day = DAY_IN_KEY.exec(key);
      if (day) {
        const date = `${day[1]}-${day[2]}-${day[3]}`;
        if ((from && date < from) || (to && date > to)) continue;
      }
      yield {
        path: `s3://${bucket}/${key}`,
        gzip: /\.gz$/i.test(key),
        ...(object.Size !== undefined ? { size: object.Size } : {}),
        open: async () => (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as Readable,
      };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}
