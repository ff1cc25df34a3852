import type { ActionDefinition } from '../actions/define.js';
import { actions } from '../actions/index.js';
import type { Clients } from '../engine/context.js';
import { BugError } from '../engine/errors.js';
import type { ProviderConfig } from '../providers/config.js';

/** Builds the clients for a run from its provider configuration (src/providers does this). */
export type ClientsFactory = (config: ProviderConfig) => Clients | Promise<Clients>;

/**
 * The real factory: `createClients` from src/providers/index.ts, loaded when a run needs
 * clients (so `--help`, `validate` and `plan` of a bad file never import the SDKs).
 */
export async function realClientsFactory(config: ProviderConfig): Promise<Clients> {
  // A computed specifier: src/providers/index.ts is written on another branch; resolving it at
  // run time keeps this one compiling on its own. The lead may replace it with a static import.
  const specifier = new URL('../providers/index.js', import.meta.url).href;
  let module: { createClients?: (config: ProviderConfig) => Clients | Promise<Clients> };
  try {
    module = (await import(specifier)) as typeof module;
  } catch (error) {
    throw new BugError('src/providers/index.ts (createClients) is missing from this build', error);
  }
  if (typeof module.createClients !== 'function') throw new BugError('src/providers/index.ts does not export createClients');
  return module.createClients(config);
}

/**
 * What the run, plan and contain commands take from their environment: the action registry
 * and the clients factory. Tests (and drills that run commands in-process) replace fields
 * here; nothing else reads them.
 */
export const commandRuntime: { registry: readonly ActionDefinition[]; createClients: ClientsFactory } = {
  registry: actions,
  createClients: realClientsFactory,
};
