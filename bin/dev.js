#!/usr/bin/env node
// Development entry point: runs the TypeScript sources in src/ without a build (`bin/dev.js
// <command>`), loading them through tsx. oclif 4.14's own development mode cannot register this tsx
// version and silently falls back to dist/, so the root plugin is pointed at src/commands here
// and any oclif.manifest.json (which lists dist/ files) is ignored.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execute, Plugin } from '@oclif/core';
import { register } from 'tsx/esm/api';

register();

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
pjson.oclif.commands = './src/commands';
const plugin = new Plugin({ root, isRoot: true, pjson, ignoreManifest: true });
await plugin.load();
await execute({ args: process.argv.slice(2), loadOptions: { root, pjson, plugins: new Map([[plugin.name, plugin]]) } });
