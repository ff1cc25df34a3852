#!/usr/bin/env node
import { execute } from '@oclif/core';

// The AWS SDK warns on every start under Node 20 that releases after January 2027 will need
// Node 22; the versions package-lock.json pins run on Node 20 (README says so). In the middle of
// an incident that multi-line warning on stderr is noise, so it is off unless asked for.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

await execute({ dir: import.meta.url });
