import { parse as parseYaml } from 'yaml';
import { fingerprint } from '../engine/secret.js';
import type { AttackOutcome, AwsLab } from './aws/index.js';
import { evaluate, parsePolicy } from './aws/policy.js';
import type { GitHubLab } from './github/index.js';
import type { Scenario } from './scenario.js';

/**
 * The lab's ground truth about an incident: every credential the attacker holds or can obtain
 * (its capabilities), derived from the scenario and the lab at lab start, and a replay of each
 * one through the lab's own wire paths after containment. A containment verdict is sound only
 * when no capability still works, or each one that works is named among its open items.
 *
 * What the attacker holds:
 * - the AWS sessions of the compromised workflow's jobs and every session its script uses;
 * - every IAM access key whose id and secret a compromised repository's run log printed, a
 *   secret the compromised workflow receives holds, or the script uses;
 * - what the script minted (CreateAccessKey keys, AssumeRole sessions);
 * - every OIDC subject a compromised workflow can mint (its repositories' branches, environments
 *   and pull requests, in the form GitHub issues for the repository: names or immutable ids),
 *   so every role of every account whose trust admits one of them at lab start;
 * - every role a held AWS credential may assume (trust naming it, its role or its account);
 * - GitHub and npm tokens printed, held in reachable secrets, leaked (incident.leaked_tokens)
 *   or used by the script; and every other secret value the workflow receives or a log printed.
 *
 * Legitimate workloads (`actor: workload`): other repositories' OIDC subjects that roles admit
 * and IAM keys the attacker never held. They must keep working unless the report says they were cut.
 */

export type CapabilityKind = 'aws-session' | 'aws-key' | 'oidc-assume' | 'role-chain' | 'github-token' | 'npm-token' | 'secret-value';

/** One thing the attacker (or a legitimate workload) can do with what it holds. Never holds a secret value in its text. */
export interface Capability {
  /** Stable within one lab: `aws-key:AKIA...`, `oidc-assume:<role arn>:<subject>`, `github-token:sha256:...`. */
  id: string;
  kind: CapabilityKind;
  actor: 'attacker' | 'workload';
  /** What it is, for a human: "static key AKIA... of user fleet-ci (printed in run 91's log)". */
  description: string;
  /**
   * Names a report would use for it (role name and ARN, key id, user name, secret names, token
   * fingerprints): an open item that names any of them covers the capability.
   */
  names: string[];
  /** How it is replayed (internal: never printed; holds token values). */
  readonly probe: Probe;
}

/** A capability replayed after containment. */
export interface CapabilityOutcome {
  id: string;
  kind: CapabilityKind;
  actor: 'attacker' | 'workload';
  description: string;
  names: string[];
  outcome: 'success' | 'denied' | 'error';
  /** The call made and its answer (`s3:ListBuckets: denied (AccessDenied)`). */
  detail: string;
}

type Step = Scenario['attacker'][number];

type Probe =
  | { kind: 'aws'; step: Step }
  | { kind: 'github'; token: string }
  | { kind: 'npm'; token: string }
  | { kind: 'secret'; scope: SecretScope; name: string; valueFingerprint: string };

type SecretScope = { repo: string; env?: string } | { org: string };

/** The parts of a running lab the derivation and the replay read. */
export interface CapabilityLab {
  readonly scenario: Scenario;
  readonly github: GitHubLab;
  readonly aws: AwsLab;
  readonly endpoints: { npm?: string };
  readonly startedAt: Date;
}

const OIDC_PROVIDER = 'token.actions.githubusercontent.com';
const STEP_DEFAULTS = { actor: 'attacker' as const, phase: 'after-containment' as const, region: 'us-east-1', source_ip: '203.0.113.66', user_agent: 'python-requests/2.31.0', params: {} };

function workflowPath(workflow: string): string {
  return workflow.startsWith('.github/workflows/') ? workflow : `.github/workflows/${workflow}`;
}

/** Decodes base64 runs of a text (once), so double-base64 dumps (tj-actions) are read as the attacker reads them. */
function decodedLayers(text: string): string[] {
  const layers = [text];
  let current = text;
  for (let depth = 0; depth < 2; depth += 1) {
    const decoded: string[] = [];
    for (const match of current.matchAll(/[A-Za-z0-9+/]{40,}={0,2}/g)) decoded.push(Buffer.from(match[0], 'base64').toString('utf8'));
    if (decoded.length === 0) break;
    current = decoded.join('\n');
    layers.push(current);
  }
  return layers;
}

function statements(policy: string | Record<string, unknown>): Array<{ Effect?: string; Action?: unknown; Resource?: unknown }> {
  try {
    return parsePolicy(policy, 'any').Statement as Array<{ Effect?: string; Action?: unknown; Resource?: unknown }>;
  } catch {
    return [];
  }
}

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : []);

/** The API name for an IAM action where they differ (s3:ListAllMyBuckets is authorised for ListBuckets). */
const API_OF: Record<string, string> = { 's3:ListAllMyBuckets': 's3:ListBuckets', 's3:ListBucket': 's3:ListObjectsV2' };

/**
 * A call the identity policies allow at lab start, outside IAM and STS (a probe must not change
 * IAM): the first allowed action with wildcards filled in, on a resource its statement names.
 * Undefined when none: the probe is then sts:GetCallerIdentity (authentication only).
 */
function probeCall(policies: readonly string[], at: Date): { call: string; params: Record<string, unknown> } | undefined {
  for (const policy of policies) {
    for (const statement of statements(policy)) {
      if (statement.Effect !== 'Allow') continue;
      for (const action of list(statement.Action)) {
        const service = action.split(':')[0]!.toLowerCase();
        if (service === 'iam' || service === 'sts' || action === '*' || !action.includes(':')) continue;
        const concrete = action.replace(/\*/g, 'Describe').replace(/\?/g, 'X');
        for (const resource of list(statement.Resource)) {
          const concreteResource = resource.replace(/\*/g, 'probe').replace(/\?/g, 'x');
          const decision = evaluate({ action: concrete, resource: concreteResource, context: { 'aws:CurrentTime': at.toISOString(), 'aws:SourceIp': STEP_DEFAULTS.source_ip }, identityPolicies: [...policies] });
          if (decision !== 'allow') continue;
          const call = API_OF[concrete] ?? concrete;
          return { call, params: concreteResource === '*' ? {} : { Resource: concreteResource } };
        }
      }
    }
  }
  return undefined;
}

interface HeldSecret {
  name: string;
  value: string;
  scope: SecretScope;
  why: string;
}

/**
 * Everything the attacker holds and can obtain in this lab, and the legitimate workloads, as
 * capabilities. Call it at lab start (before containment): trust policies are read as they were
 * when the attacker acted.
 */
export function deriveCapabilities(lab: CapabilityLab, history: readonly AttackOutcome[]): Capability[] {
  const scenario = lab.scenario;
  const at = lab.startedAt;
  const incident = scenario.incident;
  const capabilities: Capability[] = [];
  const seen = new Set<string>();
  const add = (capability: Capability) => {
    if (seen.has(capability.id)) return;
    seen.add(capability.id);
    capabilities.push(capability);
  };

  // Compromised repositories, in GitHub's casing (the flags may be typed in another case).
  const wanted = new Set((incident?.repos ?? []).map((repo) => repo.toLowerCase()));
  const repos = scenario.github.repos.filter((repo) => wanted.has(repo.full_name.toLowerCase()));
  const workflows = new Set([incident?.workflow, ...(incident?.also_workflows ?? [])].filter((w): w is string => !!w).map(workflowPath));

  // Secrets the compromised workflows receive (what `secrets.NAME` resolves to, the most specific scope first).
  const held: HeldSecret[] = [];
  for (const repo of repos) {
    const owner = repo.full_name.split('/')[0]!;
    const org = scenario.github.orgs.find((o) => o.login.toLowerCase() === owner.toLowerCase());
    for (const workflow of repo.workflows.filter((w) => workflows.has(w.path))) {
      const content = workflow.content ?? '';
      const jobs = jobsOf(content);
      const envs = jobs ? jobs.jobs.flatMap((job) => (job.environment ? [job.environment] : [])) : repo.environments.map((e) => e.name);
      for (const match of content.matchAll(/secrets\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
        const name = match[1]!;
        const upper = name.toUpperCase();
        const envSecret = repo.environments.filter((e) => envs.includes(e.name)).flatMap((e) => e.secrets.map((s) => ({ s, env: e.name }))).find(({ s }) => s.name.toUpperCase() === upper);
        if (envSecret) {
          held.push({ name: envSecret.s.name, value: envSecret.s.value, scope: { repo: repo.full_name, env: envSecret.env }, why: `the workflow receives environment ${envSecret.env}'s secret ${envSecret.s.name}` });
          continue;
        }
        const repoSecret = repo.secrets.find((s) => s.name.toUpperCase() === upper);
        if (repoSecret) {
          held.push({ name: repoSecret.name, value: repoSecret.value, scope: { repo: repo.full_name }, why: `the workflow receives repository secret ${repoSecret.name}` });
          continue;
        }
        const orgSecret = org?.secrets.find(
          (s) =>
            s.name.toUpperCase() === upper &&
            (s.visibility === 'all' || (s.visibility === 'private' && repo.private) || (s.visibility === 'selected' && s.selected_repositories.some((r) => r.toLowerCase() === repo.full_name.toLowerCase() || r.toLowerCase() === repo.full_name.split('/')[1]!.toLowerCase()))),
        );
        if (orgSecret && org) held.push({ name: orgSecret.name, value: orgSecret.value, scope: { org: org.login }, why: `the workflow receives organization secret ${orgSecret.name}` });
      }
    }
  }
  // What the compromised repositories' run logs printed (any run: a public log is readable by anyone).
  const logText = repos.flatMap((repo) => repo.runs.flatMap((run) => Object.values(run.logs ?? {}))).flatMap(decodedLayers).join('\n');
  const printed = (value: string) => value.length >= 8 && logText.includes(value);
  for (const repo of scenario.github.repos) {
    const scoped: HeldSecret[] = [
      ...repo.secrets.map((s) => ({ name: s.name, value: s.value, scope: { repo: repo.full_name } as SecretScope, why: `run log printed repository secret ${s.name}` })),
      ...repo.environments.flatMap((e) => e.secrets.map((s) => ({ name: s.name, value: s.value, scope: { repo: repo.full_name, env: e.name } as SecretScope, why: `run log printed environment ${e.name}'s secret ${s.name}` }))),
    ];
    for (const secret of scoped) if (printed(secret.value)) held.push(secret);
  }
  for (const org of scenario.github.orgs) for (const s of org.secrets) if (printed(s.value)) held.push({ name: s.name, value: s.value, scope: { org: org.login }, why: `run log printed organization secret ${s.name}` });

  const heldValues = new Set(held.map((s) => s.value));
  const attackerSteps = scenario.attacker.filter((step) => step.actor === 'attacker');
  const usedCredentials = new Set(attackerSteps.map((step) => step.credential));
  const secretNamesOf = (value: string) => [...new Set(held.filter((s) => s.value === value).map((s) => s.name))];
  const whyOf = (value: string, fallback: string) => held.find((s) => s.value === value)?.why ?? (printed(value) ? 'printed in a run log' : fallback);

  // IAM users' keys: held when printed (id and secret), in reachable secrets, or used by the script.
  const credentialValues = new Set<string>();
  const heldAws: Array<{ credential: string; principalArn: string; roleArn?: string; account: string; names: string[]; policies: string[] }> = [];
  for (const account of lab.aws.state.accounts.values()) {
    for (const user of account.users.values()) {
      for (const key of user.accessKeys) {
        if (key.origin !== 'scenario') continue;
        credentialValues.add(key.id);
        credentialValues.add(key.secret);
        const isHeld = (heldValues.has(key.secret) || printed(key.secret)) || usedCredentials.has(key.id);
        const policies = [...user.inlinePolicies.values(), ...user.managedPolicies.values()];
        const probe = probeCall(policies, at);
        // A workload's key is "cut" only where the report names that very key.
        const names = isHeld ? [key.id, user.name, user.arn, ...secretNamesOf(key.id), ...secretNamesOf(key.secret)] : [key.id];
        add({
          id: `aws-key:${key.id}`,
          kind: 'aws-key',
          actor: isHeld ? 'attacker' : 'workload',
          description: isHeld ? `static key ${key.id} of user ${user.name} (${whyOf(key.secret, 'used by the attacker')})` : `static key ${key.id} of user ${user.name}, never exposed (a workload's)`,
          names,
          probe: { kind: 'aws', step: { ...STEP_DEFAULTS, credential: key.id, ...(probe ?? { call: 'sts:GetCallerIdentity' }) } },
        });
        if (isHeld) heldAws.push({ credential: key.id, principalArn: user.arn, account: account.id, names, policies });
      }
    }
  }

  // Sessions: the compromised workflow's jobs' sessions, and every session the script uses.
  const jobSessions = new Set(repos.flatMap((repo) => repo.runs.filter((run) => workflows.has(run.workflow)).flatMap((run) => run.jobs.map((job) => job.aws_session).filter((s): s is string => !!s))));
  for (const session of scenario.aws.sessions) {
    if (!jobSessions.has(session.id) && !usedCredentials.has(session.id) && !usedCredentials.has(session.access_key_id)) continue;
    // A session that expired before the responders arrived is no longer anything the attacker holds.
    const state = lab.aws.state.sessions.get(session.access_key_id);
    if (state && state.expiresAt.getTime() <= at.getTime()) continue;
    const role = lab.aws.state.role(session.account, session.role);
    const roleArn = role?.arn ?? `arn:aws:iam::${session.account}:role/${session.role}`;
    const policies = role ? [...role.inlinePolicies.values(), ...role.managedPolicies.values()] : [];
    const probe = probeCall(policies, at);
    // A report that says the subject the session was minted from is still open names it too.
    const names = [session.role, roleArn, session.access_key_id, session.id, ...(session.oidc_subject ? [session.oidc_subject] : [])];
    add({
      id: `aws-session:${session.access_key_id}`,
      kind: 'aws-session',
      actor: 'attacker',
      description: `session ${session.access_key_id} of role ${session.role} in ${session.account} (${jobSessions.has(session.id) ? "a compromised job's session" : 'used by the attacker'})`,
      names,
      probe: { kind: 'aws', step: { ...STEP_DEFAULTS, credential: session.id, ...(probe ?? { call: 'sts:GetCallerIdentity' }) } },
    });
    heldAws.push({ credential: session.id, principalArn: `arn:aws:sts::${session.account}:assumed-role/${session.role}/${session.session_name}`, roleArn, account: session.account, names, policies });
  }

  // What the script minted: access keys and role sessions.
  for (const outcome of history) {
    if (outcome.actor !== 'attacker' || outcome.outcome !== 'success' || !outcome.produced) continue;
    const id = outcome.produced;
    if (id.startsWith('AKIA')) {
      const found = lab.aws.state.findKey(id);
      if (!found) continue;
      const policies = [...found.user.inlinePolicies.values(), ...found.user.managedPolicies.values()];
      const probe = probeCall(policies, at);
      const names = [id, found.user.name, found.user.arn];
      add({
        id: `aws-key:${id}`,
        kind: 'aws-key',
        actor: 'attacker',
        description: `key ${id} of user ${found.user.name}, minted by the attacker (${outcome.call} with ${outcome.credential})`,
        names,
        probe: { kind: 'aws', step: { ...STEP_DEFAULTS, credential: id, ...(probe ?? { call: 'sts:GetCallerIdentity' }) } },
      });
      heldAws.push({ credential: id, principalArn: found.user.arn, account: found.user.account, names, policies });
    } else {
      const session = lab.aws.state.sessions.get(id);
      if (!session || session.kind !== 'role') continue;
      const role = lab.aws.state.role(session.account, session.roleName ?? '');
      const roleArn = role?.arn ?? `arn:aws:iam::${session.account}:role/${session.roleName}`;
      const policies = role ? [...role.inlinePolicies.values(), ...role.managedPolicies.values()] : [];
      const probe = probeCall(policies, at);
      const names = [session.roleName ?? '', roleArn, id];
      add({
        id: `aws-session:${id}`,
        kind: 'aws-session',
        actor: 'attacker',
        description: `session ${id} of role ${session.roleName} in ${session.account}, minted by the attacker (${outcome.call} with ${outcome.credential})`,
        names,
        probe: { kind: 'aws', step: { ...STEP_DEFAULTS, credential: id, ...(probe ?? { call: 'sts:GetCallerIdentity' }) } },
      });
      heldAws.push({ credential: id, principalArn: `arn:aws:sts::${session.account}:assumed-role/${session.roleName}/${session.sessionName}`, roleArn, account: session.account, names, policies });
    }
  }

  // OIDC subjects: what the compromised workflow can mint, and what other repositories' workloads mint.
  const orgIds = new Map([...lab.github.state.orgs.values()].map((org) => [org.login.toLowerCase(), org.id]));
  /**
   * The `sub` claims a workflow's runs get (FACTS.md): the repository in the form GitHub issues
   * for it (names in GitHub's casing, or immutable ids), then `environment:<name>` for a job with
   * an environment, `pull_request` for a pull_request run, `ref:refs/heads/<branch>` otherwise.
   * Each job of the workflow: its environment, or (a job without one) every branch its runs ran
   * on and the default branch, and pull_request when the workflow is triggered by it. A workflow
   * the lab cannot read counts as having both kinds of job.
   */
  const subjectsOf = (repo: Scenario['github']['repos'][number], only?: ReadonlySet<string>): string[] => {
    const state = lab.github.state.repos.get(repo.full_name.toLowerCase());
    const [owner, name] = repo.full_name.split('/') as [string, string];
    const prefix = state?.oidc.useImmutableSubject ? `repo:${owner}@${orgIds.get(owner.toLowerCase()) ?? 0}/${name}@${state.id}` : `repo:${repo.full_name}`;
    const ofWorkflows = repo.workflows.filter((w) => !only || only.has(w.path));
    const runs = repo.runs.filter((run) => !only || only.has(run.workflow));
    const envs = new Set<string>();
    let plainJobs = ofWorkflows.length === 0;
    let pullRequest = runs.some((run) => run.event === 'pull_request');
    for (const workflow of ofWorkflows) {
      const jobs = jobsOf(workflow.content);
      if (!jobs) {
        plainJobs = true;
        for (const environment of repo.environments) envs.add(environment.name);
        continue;
      }
      pullRequest ||= jobs.pullRequest;
      for (const job of jobs.jobs) {
        if (job.environment) envs.add(job.environment);
        else plainJobs = true;
      }
    }
    const branches = plainJobs ? new Set([repo.default_branch, ...runs.filter((run) => run.event !== 'pull_request').map((run) => run.head_branch)]) : new Set<string>();
    return [...[...branches].map((b) => `${prefix}:ref:refs/heads/${b}`), ...[...envs].map((e) => `${prefix}:environment:${e}`), ...(pullRequest && plainJobs ? [`${prefix}:pull_request`] : [])];
  };
  const attackerSubjects = new Set([...repos.flatMap((repo) => subjectsOf(repo, workflows)), ...scenario.aws.sessions.filter((s) => jobSessions.has(s.id) && s.oidc_subject).map((s) => s.oidc_subject!)]);
  const workloadRepos = new Map<string, string>();
  for (const repo of scenario.github.repos.filter((r) => !repos.includes(r))) for (const subject of subjectsOf(repo)) if (!attackerSubjects.has(subject)) workloadRepos.set(subject, repo.full_name);
  const workloadSubjects = new Set(workloadRepos.keys());
  for (const account of lab.aws.state.accounts.values()) {
    for (const role of account.roles.values()) {
      if (!role.trustPolicy.includes('AssumeRoleWithWebIdentity')) continue;
      const providerArn = `arn:aws:iam::${role.account}:oidc-provider/${OIDC_PROVIDER}`;
      for (const [actor, subjects] of [['attacker', attackerSubjects], ['workload', workloadSubjects]] as const) {
        for (const subject of subjects) {
          const context = { 'aws:CurrentTime': at.toISOString(), 'aws:SourceIp': STEP_DEFAULTS.source_ip, [`${OIDC_PROVIDER}:sub`]: subject, [`${OIDC_PROVIDER}:aud`]: 'sts.amazonaws.com' };
          const admitted = evaluate({ principal: { type: 'Federated', id: providerArn }, action: 'sts:AssumeRoleWithWebIdentity', resource: role.arn, context, identityPolicies: [], resourcePolicy: role.trustPolicy }) === 'allow';
          if (!admitted) continue;
          add({
            id: `oidc-assume:${role.arn}:${subject}`,
            kind: 'oidc-assume',
            actor,
            description: `${actor === 'attacker' ? 'a token the compromised workflow can mint' : "another repository's workload"} (sub ${subject}) assumes role ${role.name} in ${role.account}`,
            // A workload's access is "cut" only where the report names its repository or subject (every restricted role is named anyway).
            names: actor === 'attacker' ? [role.arn, role.name, subject] : [subject, workloadRepos.get(subject)!],
            probe: { kind: 'aws', step: { ...STEP_DEFAULTS, actor, credential: `oidc:${subject}`, call: 'sts:AssumeRoleWithWebIdentity', params: { RoleArn: role.arn } } },
          });
        }
      }
    }
  }

  // Role chaining: every role whose trust admits a held AWS credential (by its ARN, its role or its account).
  for (const account of lab.aws.state.accounts.values()) {
    for (const role of account.roles.values()) {
      if (role.serviceLinked || role.trustPolicy.includes('AssumeRoleWithWebIdentity')) continue;
      for (const credential of heldAws) {
        if (credential.roleArn === role.arn) continue;
        const principal = { type: 'AWS' as const, id: credential.principalArn, account: credential.account, ...(credential.roleArn ? { roleArn: credential.roleArn } : {}) };
        // As STS decides (src/lab/aws/sts.ts): the trust admits the caller, and either names it
        // within its account or the caller's own policies allow sts:AssumeRole on the role.
        const context = { 'aws:CurrentTime': at.toISOString() };
        const trust = evaluate({ principal, action: 'sts:AssumeRole', resource: role.arn, context, identityPolicies: [], resourcePolicy: role.trustPolicy });
        if (trust !== 'allow') continue;
        const namesCaller = credential.account === role.account && evaluate({ principal: { ...principal, account: '' }, action: 'sts:AssumeRole', resource: role.arn, context, identityPolicies: [], resourcePolicy: role.trustPolicy }) === 'allow';
        if (!namesCaller && evaluate({ action: 'sts:AssumeRole', resource: role.arn, context, identityPolicies: credential.policies }) !== 'allow') continue;
        add({
          id: `role-chain:${credential.credential}:${role.arn}`,
          kind: 'role-chain',
          actor: 'attacker',
          description: `${credential.names[0]} assumes role ${role.name} in ${role.account} (its trust admits the credential)`,
          names: [role.arn, role.name, ...credential.names],
          probe: { kind: 'aws', step: { ...STEP_DEFAULTS, credential: credential.credential, call: 'sts:AssumeRole', params: { RoleArn: role.arn } } },
        });
      }
    }
  }

  // GitHub tokens: printed, in reachable secrets, leaked, or used by the script.
  const leaked = new Set(incident?.leaked_tokens ?? []);
  for (const token of scenario.github.tokens) {
    credentialValues.add(token.value);
    if (!(heldValues.has(token.value) || printed(token.value) || leaked.has(token.value) || usedCredentials.has(token.value))) continue;
    const print = fingerprint(token.value);
    add({
      id: `github-token:${print}`,
      kind: 'github-token',
      actor: 'attacker',
      description: `GitHub ${token.kind} ${print}${token.owner ? ` of ${token.owner}` : ''} (${whyOf(token.value, leaked.has(token.value) ? 'leaked (the responders hold it)' : 'used by the attacker')})`,
      names: [print, ...secretNamesOf(token.value)],
      probe: { kind: 'github', token: token.value },
    });
  }
  // npm tokens: printed, in reachable secrets, or used by the script (by value or secret name).
  const resolveNpm = (credential: string) => held.find((s) => s.name === credential)?.value ?? credential;
  const npmUsed = new Set(attackerSteps.filter((s) => s.call.startsWith('npm:')).map((s) => resolveNpm(s.credential)));
  for (const token of scenario.npm?.tokens ?? []) {
    credentialValues.add(token.value);
    if (!(heldValues.has(token.value) || printed(token.value) || npmUsed.has(token.value))) continue;
    const print = fingerprint(token.value);
    add({
      id: `npm-token:${print}`,
      kind: 'npm-token',
      actor: 'attacker',
      description: `npm token ${print}${token.readonly ? ' (read-only)' : ''} (${whyOf(token.value, 'used by the attacker')})`,
      names: [print, ...secretNamesOf(token.value)],
      probe: { kind: 'npm', token: token.value },
    });
  }
  // Every other secret value the attacker holds: it works until the secret (and what it unlocks) is rotated.
  for (const secret of held) {
    if (credentialValues.has(secret.value)) continue;
    const where = 'org' in secret.scope ? `org ${secret.scope.org}` : secret.scope.env ? `${secret.scope.repo} environment ${secret.scope.env}` : secret.scope.repo;
    add({
      id: `secret-value:${where}:${secret.name}`,
      kind: 'secret-value',
      actor: 'attacker',
      description: `secret ${secret.name} of ${where} (${secret.why})`,
      names: [secret.name],
      probe: { kind: 'secret', scope: secret.scope, name: secret.name, valueFingerprint: fingerprint(secret.value) },
    });
  }
  return capabilities;
}

/** A workflow's jobs (their environments) and whether pull_request triggers it; undefined when the YAML cannot be read. */
function jobsOf(content: string | undefined): { jobs: Array<{ environment?: string }>; pullRequest: boolean } | undefined {
  if (!content) return undefined;
  let doc: unknown;
  try {
    doc = parseYaml(content);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const { on, jobs } = doc as { on?: unknown; jobs?: unknown };
  if (typeof jobs !== 'object' || jobs === null) return undefined;
  const triggers = typeof on === 'string' ? [on] : Array.isArray(on) ? on.map(String) : typeof on === 'object' && on !== null ? Object.keys(on) : [];
  return {
    pullRequest: triggers.includes('pull_request'),
    jobs: Object.values(jobs as Record<string, unknown>).map((job) => {
      const environment = (job as { environment?: unknown } | null)?.environment;
      const name = typeof environment === 'string' ? environment : typeof environment === 'object' && environment !== null ? (environment as { name?: unknown }).name : undefined;
      return typeof name === 'string' ? { environment: name } : {};
    }),
  };
}

/** The current fingerprint of a GitHub secret in the lab (undefined when it no longer exists). */
function secretFingerprintNow(github: GitHubLab, scope: SecretScope, name: string): string | undefined {
  const upper = name.toUpperCase();
  if ('org' in scope) return github.state.orgs.get(scope.org.toLowerCase())?.secrets.get(upper)?.fingerprint;
  const repo = github.state.repos.get(scope.repo.toLowerCase());
  if (!repo) return undefined;
  if (scope.env) return repo.environments.get(scope.env)?.secrets.get(upper)?.fingerprint;
  return repo.secrets.get(upper)?.fingerprint;
}

/**
 * Replays every capability now: AWS ones through the lab's attacker path (authentication,
 * policy evaluation, CloudTrail), GitHub tokens with `GET /user` through the GitHub lab, npm
 * tokens with `GET /-/whoami` over HTTP, secret values by whether the secret still holds what
 * the attacker read.
 */
export async function replayCapabilities(lab: CapabilityLab, capabilities: readonly Capability[]): Promise<CapabilityOutcome[]> {
  const aws = capabilities.filter((c) => c.probe.kind === 'aws');
  const awsOutcomes = lab.aws.playSteps(aws.map((c) => (c.probe as { step: Step }).step));
  const byId = new Map(aws.map((c, index) => [c.id, awsOutcomes[index]!]));
  const results: CapabilityOutcome[] = [];
  for (const capability of capabilities) {
    const base = { id: capability.id, kind: capability.kind, actor: capability.actor, description: capability.description, names: capability.names };
    const probe = capability.probe;
    if (probe.kind === 'aws') {
      const outcome = byId.get(capability.id)!;
      results.push({ ...base, outcome: outcome.outcome, detail: `${outcome.call}: ${outcome.outcome}${outcome.errorCode ? ` (${outcome.errorCode})` : ''}` });
    } else if (probe.kind === 'github') {
      const response = await lab.github.callAs(probe.token, 'GET /user');
      results.push({ ...base, outcome: response.status < 300 ? 'success' : response.status === 401 || response.status === 403 ? 'denied' : 'error', detail: `GET /user: HTTP ${response.status}` });
    } else if (probe.kind === 'npm') {
      if (!lab.endpoints.npm) {
        results.push({ ...base, outcome: 'error', detail: 'no npm registry in the lab' });
        continue;
      }
      const response = await whoami(lab.endpoints.npm, probe.token);
      results.push({ ...base, outcome: response === 200 ? 'success' : response === 401 || response === 403 ? 'denied' : 'error', detail: `GET /-/whoami: HTTP ${response}` });
    } else {
      const now = secretFingerprintNow(lab.github, probe.scope, probe.name);
      const still = now === probe.valueFingerprint;
      results.push({ ...base, outcome: still ? 'success' : 'denied', detail: still ? 'the secret still holds the value the attacker read' : now ? 'rotated: the secret holds another value' : 'the secret no longer exists' });
    }
  }
  return results;
}

async function whoami(registryUrl: string, token: string): Promise<number> {
  try {
    const response = await fetch(new URL('-/whoami', registryUrl.endsWith('/') ? registryUrl : `${registryUrl}/`), { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}
