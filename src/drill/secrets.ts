import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fingerprint } from '../engine/secret.js';
import type { RunningLab } from '../lab/index.js';

/** One secret value the drill must never find in an output, and where it comes from (for the message). */
export interface KnownSecret {
  value: string;
  /** `scenario repo secret acme/api/NPM_TOKEN`, `lab-minted access key of svc-x`: never the value. */
  origin: string;
}

/** Access key ids identify a key; AWS documents them as not secret, and reports name them on purpose. */
const KEY_ID = /^(AKIA|ASIA)[A-Z0-9]{12,}$/;

/**
 * Every secret the lab holds at the end of a run: the scenario's GitHub secret values and
 * tokens, AWS secret keys and session secrets, npm tokens, and what the lab minted or decrypted during the
 * run (new access keys' secrets, session tokens, GitHub secret plaintexts the responders put).
 */
export function labSecrets(lab: RunningLab): KnownSecret[] {
  const found = new Map<string, string>();
  const add = (value: string | undefined, origin: string) => {
    if (!value || value.length < 8 || KEY_ID.test(value) || found.has(value)) return;
    found.set(value, origin);
  };
  const { github, aws } = lab.scenario;
  for (const org of github.orgs) for (const s of org.secrets) add(s.value, `scenario org secret ${org.login}/${s.name}`);
  for (const repo of github.repos) {
    for (const s of repo.secrets) add(s.value, `scenario repo secret ${repo.full_name}/${s.name}`);
    for (const env of repo.environments) for (const s of env.secrets) add(s.value, `scenario environment secret ${repo.full_name}/${env.name}/${s.name}`);
  }
  for (const token of github.tokens) add(token.value, `scenario ${token.kind} of ${token.owner ?? 'someone'}`);
  for (const account of aws.accounts) for (const user of account.users) for (const key of user.access_keys) add(key.secret, `scenario access key secret of ${user.name}`);
  for (const session of aws.sessions) add(session.secret, `scenario session secret ${session.id}`);
  for (const token of lab.scenario.npm?.tokens ?? []) add(token.value, 'scenario npm token');
  // What the run changed: the lab's state now.
  for (const [, repo] of lab.github.state.repos) {
    for (const [name, s] of repo.secrets) add(s.value.reveal(), `repo secret ${repo.fullName}/${name} as the lab decrypted it`);
    for (const [envName, env] of repo.environments) for (const [name, s] of env.secrets) add(s.value.reveal(), `environment secret ${repo.fullName}/${envName}/${name} as the lab decrypted it`);
  }
  for (const [, org] of lab.github.state.orgs) for (const [name, s] of org.secrets) add(s.value.reveal(), `org secret ${org.login}/${name} as the lab decrypted it`);
  for (const [, account] of aws.accounts.length ? lab.aws.state.accounts : []) {
    for (const [, user] of account.users) for (const key of user.accessKeys) add(key.secret, `access key secret of ${user.name} (${key.origin === 'scenario' ? 'scenario' : 'minted during the run'})`);
  }
  for (const [, session] of lab.aws.state.sessions) {
    add(session.secret, `session secret ${session.accessKeyId}`);
    add(session.sessionToken, `session token ${session.accessKeyId}`);
  }
  add(lab.providerConfig.github?.token, "the responder's lab GitHub token");
  add(lab.providerConfig.npm?.token, "the responder's lab npm token");
  add(lab.providerConfig.aws?.credentials && 'secretAccessKey' in lab.providerConfig.aws.credentials ? lab.providerConfig.aws.credentials.secretAccessKey : undefined, "the responder's lab AWS secret key");
  return [...found].map(([value, origin]) => ({ value, origin }));
}

/** One secret found where it must not be: where, and which (by origin and fingerprint, never the value). */
export interface Leak {
  where: string;
  origin: string;
  fingerprint: string;
}

/** Searches named texts for every known secret. */
export function findLeaks(texts: ReadonlyArray<{ where: string; text: string }>, secrets: readonly KnownSecret[]): Leak[] {
  const leaks: Leak[] = [];
  for (const { where, text } of texts) {
    for (const secret of secrets) if (text.includes(secret.value)) leaks.push({ where, origin: secret.origin, fingerprint: fingerprint(secret.value) });
  }
  return leaks;
}

/** Every file under `dir` (journal, reports, anything a step wrote), as texts to search. */
export async function filesUnder(dir: string): Promise<Array<{ where: string; text: string }>> {
  const out: Array<{ where: string; text: string }> = [];
  const walk = async (path: string): Promise<void> => {
    const info = await stat(path).catch(() => undefined);
    if (!info) return;
    if (info.isDirectory()) {
      for (const name of await readdir(path)) await walk(join(path, name));
    } else if (info.isFile()) {
      out.push({ where: path, text: await readFile(path, 'latin1') });
    }
  };
  await walk(dir);
  return out;
}

/** Replaces every known secret in a text by its fingerprint (for the drill's own messages). */
export function maskSecrets(text: string, secrets: readonly KnownSecret[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret.value)) out = out.split(secret.value).join(`[secret ${fingerprint(secret.value)}]`);
  return out;
}
