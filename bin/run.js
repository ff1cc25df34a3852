#!/usr/bin/env node
import { frontDoor } from './front-door.js';

// `--version` and the root `--help` come from the manifest alone: no @oclif/core, no SDKs.
const answer = frontDoor(process.argv.slice(2));
if (answer !== undefined) {
  process.stdout.write(answer);
} else {
  // The AWS SDK warns on every start under Node 20 that releases after January 2027 will need
  // Node 22; the versions package-lock.json pins run on Node 20 (README says so). In the middle of
  // an incident that multi-line warning on stderr is noise, so it is off unless asked for.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
