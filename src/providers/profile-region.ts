import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The `region` of an AWS profile in the shared config file (AWS_CONFIG_FILE, else
 * ~/.aws/config), as the AWS CLI reads it: `[profile NAME]` (or `[default]`). The SDK clients
 * get an explicit region, so without this a profile's region was ignored for us-east-1.
 * Undefined when there is no file, section or region.
 */
export function profileRegion(profile: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const name = profile ?? env.AWS_PROFILE ?? 'default';
  let text: string;
  try {
    text = readFileSync(env.AWS_CONFIG_FILE ?? join(homedir(), '.aws', 'config'), 'utf8');
  } catch {
    return undefined;
  }
  let inSection = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const header = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      inSection = header[1] === name;
      continue;
    }
    const region = inSection ? /^region\s*=\s*([a-z0-9-]+)\s*$/.exec(line) : null;
    if (region) return region[1];
  }
  return undefined;
}
