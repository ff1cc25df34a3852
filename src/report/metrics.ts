import type { CredentialEvent, InventoryItem } from '../engine/evidence.js';
import { fingerprint } from '../engine/secret.js';
import { type Collected, type LogHit, type Seq, cancelledRuns, inventoryKey, deniedSubjects, foundRoles, isMutatingStep, isoOrUndefined, lastPhase, stringLike } from './collect.js';
import { formatDuration } from './format.js';
import {
  type CredentialStatus,
  type Exposure,
  type Metrics,
  PLAN_ONLY_NOTICE,
  type StepProblem,
  type TimeToContain,
} from './model.js';

const CLOSING = new Set<CredentialEvent['event']>(['revoked', 'rotated', 'deactivated', 'deleted']);
/**
 * Events whose fingerprint names a value that no longer works. Not `rotated`: its fingerprint
 * is the value put in place (github.rotate-secret), so finding it in a log means the new value
 * leaked, not that the old one died.
 */
const KILLS_VALUE = new Set<CredentialEvent['event']>(['revoked', 'deactivated', 'deleted']);
const SECRET_KINDS = new Set<InventoryItem['kind']>(['repo-secret', 'environment-secret', 'org-secret']);
const ms = (iso: string) => Date.parse(iso);

/** Computes every metric of the report from a collected journal. */
export function computeMetrics(c: Collected): Metrics {
  return {
    timeToContain: timeToContain(c),
    exposure: exposureWindows(c),
    credentials: credentialInventory(c),
    findingsBySeverity: findingsBySeverity(c),
    steps: stepCounts(c),
  };
}

/**
 * First mutating action applied -> last containment step verified. Containment steps are the
 * steps that change the world (see isMutatingStep); if any of them ends unverified, failed,
 * compensated or applied without a verify, the run is "not contained" whatever the clock says.
 */
export function timeToContain(c: Collected): TimeToContain {
  if (c.runStart?.dryRun) return { status: 'plan-only', blocking: [], text: PLAN_ONLY_NOTICE };
  const starts: string[] = [];
  const verifiedAt: string[] = [];
  const blocking: string[] = [];
  const reasons: string[] = [];
  for (const call of c.apiCalls) {
    const at = isoOrUndefined(call.at);
    if (call.mutating && at && !call.error) starts.push(at);
  }
  let containmentSteps = 0;
  for (const [key, records] of c.steps) {
    if (!isMutatingStep(key, records, c.apiCalls)) continue;
    const last = lastPhase(records);
    if (!last || last.phase === 'skipped') continue;
    containmentSteps++;
    for (const r of records) {
      const at = isoOrUndefined(r.at);
      if (r.phase === 'applied' && at) starts.push(at);
    }
    const at = isoOrUndefined(last.at);
    if (last.phase === 'verified' && at) verifiedAt.push(at);
    else {
      blocking.push(key);
      reasons.push(`${key} ${last.phase === 'applied' ? 'applied but never verified' : last.phase}`);
    }
  }
  if (containmentSteps === 0) return { status: 'no-containment', blocking: [], text: 'no containment step ran' };
  const firstMutationAt = starts.sort()[0];
  const lastVerifiedAt = verifiedAt.sort().at(-1);
  if (blocking.length > 0) {
    return { status: 'not-contained', firstMutationAt, lastVerifiedAt, blocking, text: `not contained: ${reasons.join('; ')}` };
  }
  const durationMs = firstMutationAt && lastVerifiedAt ? Math.max(0, ms(lastVerifiedAt) - ms(firstMutationAt)) : undefined;
  return {
    status: 'contained',
    firstMutationAt,
    lastVerifiedAt,
    durationMs,
    blocking: [],
    text: durationMs === undefined ? 'contained' : `contained in ${formatDuration(durationMs)}`,
  };
}

/**
 * `deploy.yml#build` -> `build`: inventory names jobs by workflow and job id, runs by job
 * name. A job with a `name:` shows it in the run (`Validate PR Title` for job id
 * `validate-pr-title`), so both sides are compared in a loose form: lower case, every run of
 * other characters one dash.
 */
function jobPart(ref: string): string {
  const hash = ref.lastIndexOf('#');
  return looseJob(hash >= 0 ? ref.slice(hash + 1) : ref);
}

function looseJob(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/**
 * The journal's name of an inventory secret: what secretResource() (src/github/secret-scope.ts)
 * writes for that exact scope: `repo:o/r` -> `secret:o/r/NAME`, `env:o/r/prod` ->
 * `secret:o/r:env:prod/NAME`, `org:acme` -> `secret:org:acme/NAME`. Undefined for other kinds.
 */
export function secretResourceOf(item: { kind: string; scope: string; name: string }): string | undefined {
  const colon = item.scope.indexOf(':');
  const [prefix, rest] = [item.scope.slice(0, colon), item.scope.slice(colon + 1)];
  if (item.kind === 'repo-secret' && prefix === 'repo') return `secret:${rest}/${item.name}`;
  if (item.kind === 'org-secret' && prefix === 'org') return `secret:org:${rest}/${item.name}`;
  if (item.kind === 'environment-secret' && prefix === 'env') {
    const [owner, repo, ...env] = rest.split('/');
    if (owner && repo && env.length > 0) return `secret:${owner}/${repo}:env:${env.join('/')}/${item.name}`;
  }
  return undefined;
}

/**
 * Whether a credential event's id names this inventory item. A secret matches only its exact
 * scope: a repository secret is not closed by a write of the same-named environment secret, an
 * environment secret is closed by its own write (`secret:o/r:env:prod/NAME`), and an org secret
 * only by a write of that organization's secret (never `acme-evil` for `acme`, never a
 * repository secret of an `acme/...` repository). GitHub owner, repository, environment and
 * secret names are case-insensitive, so the comparison is too. Other kinds (tokens, roles)
 * match by their exact name.
 */
export function matchesItem(item: { kind: string; name: string; scope: string }, credential: string): boolean {
  const resource = secretResourceOf(item);
  if (resource !== undefined) return resource.toLowerCase() === credential.toLowerCase();
  if (SECRET_KINDS.has(item.kind as InventoryItem['kind'])) return false;
  return credential === item.name;
}

/**
 * Whether a secret of this scope is readable by runs of `repo` (`o/r`): `repo:o/r` and
 * `env:o/r/ENV` by o/r; `org:ORG` by the repositories of ORG the secret's visibility admits,
 * which is what the inventory recorded (an org secret is inventoried for a repository only when
 * its visibility, `all`, `private` or `selected`, lets that repository read it).
 */
function scopeCovers(c: Collected, item: InventoryItem, repo: string): boolean {
  // GitHub owner and repository names are case-insensitive.
  const s = item.scope.toLowerCase();
  const r = repo.toLowerCase();
  if (s.startsWith('repo:')) return s.slice('repo:'.length) === r;
  if (s.startsWith('env:')) return s.slice('env:'.length).split('/').slice(0, 2).join('/') === r;
  if (s.startsWith('org:')) return r.startsWith(`${s.slice('org:'.length)}/`) && (c.inventoryRepos.get(itemKey(item))?.has(r) ?? false);
  return false;
}

const itemKey = inventoryKey;

/**
 * The inventory secret whose value a log showed under its name in a run of its repository, by
 * GitHub's precedence (environment over repository over organization secret of the same name):
 * an org secret only when no repository or environment secret of that name covers the run's
 * repository; none when a repository and an environment secret (or two environments) could each
 * have been read, since which one a job reads depends on its environment and the log does not say.
 */
function holderOf(c: Collected, secrets: InventoryItem[], hit: LogHit): InventoryItem | undefined {
  // Secret names are case-insensitive too (GitHub stores them upper case).
  const named = secrets.filter((item) => item.name.toUpperCase() === hit.name.toUpperCase() && scopeCovers(c, item, hit.repo));
  const specific = named.filter((item) => item.kind !== 'org-secret');
  if (specific.length > 0) return specific.length === 1 ? specific[0] : undefined;
  return named.length === 1 ? named[0] : undefined;
}

/** A value the log scan found in an inventory secret, and the first event that made it worthless. */
interface FoundValue {
  fingerprint: string;
  runs: number[];
  killedBy?: CredentialEvent & { at: string };
}

/**
 * Per inventory secret (itemKey), the values github.scan-run-logs found in it: a value counts
 * for a secret only when the log named it so (never by name alone across repositories: two
 * repositories' NPM_TOKENs are different tokens), and it is dead when a revoked, deactivated or
 * deleted credential event carries its fingerprint (npm.revoke-token, github.revoke-tokens).
 */
function valuesFoundBySecret(c: Collected): Map<string, FoundValue[]> {
  const secrets = c.inventory.map((i) => i.value).filter((item) => SECRET_KINDS.has(item.kind));
  const killers = c.credentials
    .map((e) => ({ ...e.value, at: isoOrUndefined(e.value.at) }))
    .filter((e): e is CredentialEvent & { at: string } => e.at !== undefined && (e.fingerprint !== undefined || e.kind === 'aws-access-key') && KILLS_VALUE.has(e.event))
    .sort((a, b) => a.at.localeCompare(b.at));
  const out = new Map<string, Map<string, FoundValue>>();
  for (const { value: hit } of c.logHits) {
    const holder = holderOf(c, secrets, hit);
    if (!holder) continue;
    const values = out.get(itemKey(holder)) ?? new Map<string, FoundValue>();
    out.set(itemKey(holder), values);
    const found = values.get(hit.fingerprint);
    if (found) {
      if (!found.runs.includes(hit.run)) found.runs.push(hit.run);
      continue;
    }
    // An AWS key id, or a secret key tied to its pair's id, dies with the key (deactivated or deleted by id).
    const killedBy = killers.find((e) => (e.fingerprint !== undefined && e.fingerprint === hit.fingerprint) || (hit.keyId !== undefined && e.kind === 'aws-access-key' && e.credential === hit.keyId));
    values.set(hit.fingerprint, { fingerprint: hit.fingerprint, runs: [hit.run], ...(killedBy ? { killedBy } : {}) });
  }
  return new Map([...out].map(([key, values]) => [key, [...values.values()].map((v) => ({ ...v, runs: v.runs.sort((a, b) => a - b) }))]));
}

const CREDENTIAL_LABEL: Partial<Record<CredentialEvent['kind'], string>> = { 'npm-token': 'npm token', 'github-token': 'GitHub token', 'aws-access-key': 'AWS access key' };

function inLogsOf(runs: number[]): string {
  return runs.length === 1 ? `the log of run ${runs[0]}` : `the logs of runs ${runs.join(', ')}`;
}

/** `revoked as npm token sha256:… found in the log of run 9123456701; the secret still holds the revoked value: replace it (npm: trusted publishing)`. */
function deadValuesNote(found: FoundValue[]): string {
  // An AWS key is named by its id (not secret); any other value by its fingerprint.
  const named = (v: FoundValue) => (v.killedBy!.kind === 'aws-access-key' ? `${v.killedBy!.credential} (value ${v.fingerprint})` : v.fingerprint);
  const how = found.map((v) => `${v.killedBy!.event} as ${CREDENTIAL_LABEL[v.killedBy!.kind] ?? v.killedBy!.kind} ${named(v)} found in ${inLogsOf(v.runs)}`);
  const value = found.length === 1 ? `the ${found[0]!.killedBy!.event} value` : 'a dead value';
  const hint = found.some((v) => v.killedBy!.kind === 'npm-token') ? ' (npm: trusted publishing)' : '';
  return `${how.join('; ')}; the secret still holds ${value}: replace it${hint}`;
}

/** `arn:aws:sts::111122223333:assumed-role/deploy/GitHubActions` -> account and role name. */
function assumedRole(identity: string): { account: string; role: string } | undefined {
  const m = /^arn:aws[\w-]*:sts::(\d{12}):assumed-role\/([^/]+)\//.exec(identity);
  return m ? { account: m[1]!, role: m[2]! } : undefined;
}

function isRoleArn(arn: string, account: string, role: string): boolean {
  return new RegExp(`^arn:aws[\\w-]*:iam::${account}:role/(?:.*/)?${role.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`).test(arn);
}

function jobStartsFor(c: Collected, jobs: string[]): string[] {
  const names = new Set(jobs.map(jobPart));
  const out: string[] = [];
  for (const { run } of c.runs.values()) {
    for (const job of run.jobs) {
      const at = isoOrUndefined(job.started_at);
      if (names.has(looseJob(job.name)) && at) out.push(at);
    }
  }
  return out.sort();
}

interface Candidate {
  credential: string;
  kind: string;
  fingerprint?: string;
  events: Seq<CredentialEvent>[];
  jobs: string[];
}

/**
 * Exposure window per credential: from when it was issued (or, failing that, the first job that
 * could read it, or its first use in CloudTrail) to when it was revoked, rotated, deactivated,
 * deleted or expired. Candidates: credentials some action closed, keys seen in CloudTrail,
 * secrets the inventory found reachable, and each job's GITHUB_TOKEN. A credential that was
 * only issued (a replacement key) is not exposed and is left out.
 */
export function exposureWindows(c: Collected): Exposure[] {
  const candidates = new Map<string, Candidate>();
  const get = (credential: string, kind: string): Candidate => {
    let cand = candidates.get(credential);
    if (!cand) {
      cand = { credential, kind, events: [], jobs: [] };
      candidates.set(credential, cand);
    }
    return cand;
  };
  const roleRevokes = c.credentials.filter(
    (e) => (e.value.kind === 'aws-role-sessions' || e.value.kind === 'aws-user-sessions') && e.value.credential.startsWith('arn:') && e.value.event === 'revoked',
  );
  for (const e of c.credentials) {
    const v = e.value;
    if (v.kind === 'oidc-trust' || v.credential.startsWith('arn:')) continue;
    const cand = get(v.credential, v.kind);
    cand.events.push(e);
    cand.fingerprint ??= v.fingerprint;
  }
  const usesByKey = new Map<string, { at: string; ok: boolean; identity: string }[]>();
  for (const { value: ev } of c.cloudtrail.values()) {
    const at = isoOrUndefined(ev.eventTime);
    if (!ev.accessKeyId || !at) continue;
    const list = usesByKey.get(ev.accessKeyId) ?? [];
    list.push({ at, ok: !ev.errorCode, identity: ev.identity });
    usesByKey.set(ev.accessKeyId, list);
    if (!candidates.has(ev.accessKeyId)) get(ev.accessKeyId, ev.accessKeyId.startsWith('ASIA') ? 'aws-role-sessions' : 'aws-access-key');
  }
  // A key aws.rotate-access-key replaced was readable by the jobs that read the secret its
  // replacement's id was stored into (github.rotate-secret journals the fingerprint of the value).
  const replacedBy = rotatedKeys(c);
  const secretsHolding = new Map<string, string[]>();
  for (const { value: v } of c.credentials) {
    if (v.kind !== 'github-secret' || v.event !== 'rotated' || !v.fingerprint) continue;
    for (const [newId, oldId] of replacedBy) {
      if (fingerprint(newId) === v.fingerprint) secretsHolding.set(oldId, [...(secretsHolding.get(oldId) ?? []), v.credential]);
    }
  }
  const foundBySecret = valuesFoundBySecret(c);
  for (const { value: item } of c.inventory) {
    if (!SECRET_KINDS.has(item.kind)) continue;
    for (const [oldId, secrets] of secretsHolding) {
      if (candidates.has(oldId) && secrets.some((secret) => matchesItem(item, secret))) candidates.get(oldId)!.jobs.push(...item.jobs);
    }
    // A value the log scan found in this secret was readable by its jobs until it was revoked.
    const found = foundBySecret.get(itemKey(item)) ?? [];
    for (const v of found.filter((f) => f.killedBy)) {
      for (const cand of candidates.values()) {
        if (cand.events.some((e) => e.value.fingerprint === v.fingerprint && KILLS_VALUE.has(e.value.event))) cand.jobs.push(...item.jobs);
      }
    }
    const allFoundDead = found.length > 0 && found.every((f) => f.killedBy);
    const matched = [...candidates.values()].filter((cand) => matchesItem(item, cand.credential));
    if (matched.length === 0 && !allFoundDead) matched.push(get(secretResourceOf(item) ?? `secret:${item.scope}/${item.name}`, 'github-secret'));
    for (const cand of matched) cand.jobs.push(...item.jobs);
  }
  const out: Exposure[] = [];
  for (const cand of candidates.values()) {
    const onlyIssued = cand.events.length > 0 && cand.events.every((e) => e.value.event === 'issued');
    const uses = (usesByKey.get(cand.credential) ?? []).sort((a, b) => a.at.localeCompare(b.at));
    if (onlyIssued && uses.length === 0 && cand.jobs.length === 0) continue;
    const issued = cand.events.filter((e) => e.value.event === 'issued').map((e) => isoOrUndefined(e.value.at)).filter(isDefined).sort()[0];
    const jobStart = jobStartsFor(c, cand.jobs)[0];
    const firstSeen = uses[0]?.at;
    const role = uses.map((u) => assumedRole(u.identity)).find(isDefined);
    // A role session nobody journalled the issue of: it was minted by a job that can assume the
    // role (an oidc-role item reaching it), so it is exposed from the start of the last such job
    // that started before its first use; never later than the truth, so the window is not understated.
    const sessionJobStart = !issued && !jobStart && role && firstSeen ? sessionJobStartFor(c, role, firstSeen) : undefined;
    const [from, fromBasis] = issued
      ? [issued, 'issued' as const]
      : (jobStart ?? sessionJobStart)
        ? [(jobStart ?? sessionJobStart)!, 'job-start' as const]
        : firstSeen
          ? [firstSeen, 'first-seen' as const]
          : [undefined, 'unknown' as const];
    const closings: { at: string; status: Exposure['status'] }[] = [];
    for (const e of cand.events) {
      const at = isoOrUndefined(e.value.at);
      if (at && CLOSING.has(e.value.event)) closings.push({ at, status: e.value.event as Exposure['status'] });
    }
    // A role-session key ends when its role's sessions are revoked, if it was issued before the cutoff.
    if (role) {
      for (const r of roleRevokes) {
        const at = isoOrUndefined(r.value.at);
        // AWSRevokeOlderSessions denies sessions issued before its cutoff (journalled in the detail).
        if (!at) continue;
        const cutoff = isoOrUndefined(/issued before (\S+)/.exec(r.value.detail ?? '')?.[1]) ?? at;
        if (isRoleArn(r.value.credential, role.account, role.role) && (!from || from < cutoff)) closings.push({ at, status: 'revoked' });
      }
    }
    closings.sort((a, b) => a.at.localeCompare(b.at));
    const close = closings[0];
    const to = close?.at;
    out.push({
      credential: cand.credential,
      kind: cand.kind,
      ...(cand.fingerprint ? { fingerprint: cand.fingerprint } : {}),
      ...(from ? { from } : {}),
      fromBasis,
      ...(to ? { to } : {}),
      status: close?.status ?? 'open',
      ...(from && to ? { durationMs: Math.max(0, ms(to) - ms(from)) } : {}),
      uses: uses.length,
      ...(uses.length ? { lastUsedAt: uses[uses.length - 1]!.at } : {}),
      usedAfterClose: to ? uses.filter((u) => u.ok && u.at > to).length : 0,
    });
  }
  // Each job's GITHUB_TOKEN: valid from the job's start until the job ends (or its run was cancelled).
  const cancelled = cancelledRuns(c);
  for (const { run } of [...c.runs.values()].sort((a, b) => a.run.id - b.run.id)) {
    for (const job of run.jobs) {
      const from = isoOrUndefined(job.started_at);
      if (!from) continue;
      const to = isoOrUndefined(job.completed_at) ?? cancelled.get(run.id)?.at;
      out.push({
        credential: `GITHUB_TOKEN run ${run.id} job ${job.name}`,
        kind: 'github-token',
        from,
        fromBasis: 'job-start',
        ...(to ? { to, durationMs: Math.max(0, ms(to) - ms(from)) } : {}),
        status: to ? 'expired' : 'running',
        uses: 0,
        usedAfterClose: 0,
      });
    }
  }
  return out.sort((a, b) => (a.from ?? '\uffff').localeCompare(b.from ?? '\uffff') || a.credential.localeCompare(b.credential));
}

/**
 * Rotated vs reachable: every credential the inventory says the workflow reaches, with what
 * closed it. Anything reachable and not rotated, revoked, deactivated or deleted (or, for a
 * GITHUB_TOKEN, expired with its job) is OPEN: the token Grafana missed in May 2026.
 */
export function credentialInventory(c: Collected): Metrics['credentials'] {
  const items: CredentialStatus[] = [];
  const everySecret = new Set<string>();
  const foundBySecret = valuesFoundBySecret(c);
  for (const { value: item } of c.inventory) {
    const base = { kind: item.kind, name: item.name, scope: item.scope, jobs: item.jobs, rotation: item.rotation };
    if (item.kind === 'all-secrets') {
      for (const job of item.jobs) everySecret.add(job);
      continue;
    }
    if (item.kind === 'oidc-role') {
      items.push(oidcRoleStatus(c, item, base));
      continue;
    }
    const events = c.credentials
      .filter((e) => matchesItem(item, e.value.credential))
      .map((e) => ({ ...e.value, at: isoOrUndefined(e.value.at) }))
      .filter((e): e is CredentialEvent & { at: string } => e.at !== undefined)
      .sort((a, b) => a.at.localeCompare(b.at));
    const closing = events.find((e) => CLOSING.has(e.event));
    const restricted = events.find((e) => e.event === 'restricted');
    if (closing) {
      items.push({ ...base, status: closing.event as CredentialStatus['status'], at: closing.at, open: false });
      continue;
    }
    // No event names the secret; it is closed when every value the log scan found in it is dead.
    const found = foundBySecret.get(itemKey(item)) ?? [];
    if (found.length > 0 && found.every((v) => v.killedBy)) {
      const last = found.map((v) => v.killedBy!).sort((a, b) => a.at.localeCompare(b.at)).at(-1)!;
      items.push({ ...base, status: last.event as CredentialStatus['status'], at: last.at, open: false, note: deadValuesNote(found) });
      continue;
    }
    if (item.kind === 'github-token') {
      const names = new Set(item.jobs.map(jobPart));
      const cancelled = cancelledRuns(c);
      // When each job ended: completed_at, or the cancel-runs step that stopped its run.
      const jobs = [...c.runs.values()]
        .flatMap(({ run }) => run.jobs.map((job) => ({ job, endedAt: isoOrUndefined(job.completed_at) ?? cancelled.get(run.id)?.at, cancelledBy: job.completed_at ? undefined : cancelled.get(run.id)?.step })))
        .filter(({ job }) => names.has(looseJob(job.name)) && job.started_at);
      const running = jobs.filter((j) => !j.endedAt);
      if (jobs.length > 0 && running.length === 0) {
        const at = jobs.map((j) => j.endedAt).filter(isDefined).sort().at(-1);
        const by = [...new Set(jobs.map((j) => j.cancelledBy).filter(isDefined))];
        const note = by.length ? `expires when its job ends; running job(s) cancelled by ${by.join(', ')}` : 'expires when its job ends';
        items.push({ ...base, status: 'expired', ...(at ? { at } : {}), open: false, note });
      } else {
        items.push({
          ...base,
          status: 'open',
          open: true,
          note: running.length
            ? `${running.length} job(s) still running when the runs were recorded: the token lives until the job ends (6 h hosted, 24 h self-hosted)`
            : 'no workflow-runs evidence for these jobs: cannot tell whether their tokens ended',
        });
      }
      continue;
    }
    const live = found.filter((v) => !v.killedBy);
    const notes = [
      ...(restricted ? [`trust restricted at ${restricted.at}, but sessions issued before it were not revoked`] : []),
      ...(live.length
        ? [`the log scan found its value${live.length > 1 ? 's' : ''} ${live.map((v) => `${v.fingerprint} in ${inLogsOf(v.runs)}`).join(', ')}, and no revocation names ${live.length > 1 ? 'them' : 'that value'}`]
        : []),
    ];
    items.push({ ...base, status: 'open', open: true, ...(notes.length ? { note: notes.join('; ') } : {}) });
  }
  const open = items.filter((i) => i.open).length;
  return { reachable: items.length, closed: items.length - open, open, items, everySecretReachableBy: [...everySecret].sort() };
}

/** Start of the last job (of an oidc-role item whose subject reaches this role) that started at or before `firstSeen`. */
function sessionJobStartFor(c: Collected, role: { account: string; role: string }, firstSeen: string): string | undefined {
  const jobs = new Set<string>();
  for (const { value: item } of c.inventory) {
    if (item.kind !== 'oidc-role') continue;
    if ([...subjectRoles(c, item.name).roles].some((arn) => isRoleArn(arn, role.account, role.role))) for (const job of item.jobs) jobs.add(job);
  }
  return jobStartsFor(c, [...jobs]).filter((at) => at <= firstSeen).at(-1);
}

/** New key id -> the key it replaced, from aws.rotate-access-key's applied outputs. */
function rotatedKeys(c: Collected): Map<string, string> {
  const out = new Map<string, string>();
  for (const records of c.steps.values()) {
    for (const r of records) {
      const o = r.action === 'aws.rotate-access-key' && r.phase === 'applied' ? r.result?.outputs : undefined;
      if (typeof o?.access_key_id === 'string' && typeof o.previous_access_key_id === 'string') out.set(o.access_key_id, o.previous_access_key_id);
    }
  }
  return out;
}

type ItemBase = Pick<CredentialStatus, 'kind' | 'name' | 'scope' | 'jobs' | 'rotation'>;

/**
 * The roles an OIDC subject reaches in this run's evidence: those aws.find-roles found admitting
 * it, those aws.restrict-oidc-trust restricted with a pattern matching it (StringLike), and the
 * role itself when the inventory names a role ARN; with when each was restricted.
 */
function subjectRoles(c: Collected, subject: string): { roles: Set<string>; restrictedAt: Map<string, string> } {
  const restrictedAt = new Map<string, string>();
  for (const { value: e } of c.credentials) {
    const at = isoOrUndefined(e.at);
    if (e.kind !== 'oidc-trust' || e.event !== 'restricted' || !at) continue;
    // The inventory names the subject; older journals and hand-made inventories name the role ARN.
    if (e.credential !== subject && !deniedSubjects(e).some((p) => stringLike(p, subject))) continue;
    if (!restrictedAt.has(e.credential) || at < restrictedAt.get(e.credential)!) restrictedAt.set(e.credential, at);
  }
  const roles = new Set<string>(restrictedAt.keys());
  if (subject.startsWith('arn:')) roles.add(subject);
  for (const r of foundRoles(c)) if (r.patterns.some((p) => stringLike(p, subject))) roles.add(r.arn);
  return { roles, restrictedAt };
}

/**
 * An OIDC subject the workflow's jobs can present (`repo:o/r:environment:release`) is closed
 * when every role that admits it (subjectRoles) had its sessions revoked
 * (AWSRevokeOlderSessions) and its trust policy no longer admits it.
 */
function oidcRoleStatus(c: Collected, item: { name: string }, base: ItemBase): CredentialStatus {
  const { roles, restrictedAt } = subjectRoles(c, item.name);
  const revokedAt = new Map<string, string>();
  for (const { value: e } of c.credentials) {
    const at = isoOrUndefined(e.at);
    if (e.kind !== 'aws-role-sessions' || e.event !== 'revoked' || !at || !roles.has(e.credential)) continue;
    if (!revokedAt.has(e.credential) || at < revokedAt.get(e.credential)!) revokedAt.set(e.credential, at);
  }
  const name = (arn: string) => arn.replace(/^arn:aws[\w-]*:iam::\d{12}:role\//, '');
  const list = (arns: string[]) => arns.map(name).join(', ');
  if (roles.size === 0) return { ...base, status: 'open', open: true, note: 'no role admitting this subject was found or restricted in this run' };
  const notRevoked = [...roles].filter((r) => !revokedAt.has(r));
  const notRestricted = [...roles].filter((r) => !restrictedAt.has(r));
  if (notRevoked.length > 0) {
    const restricted = [...restrictedAt.keys()];
    return {
      ...base,
      status: 'open',
      open: true,
      note: `sessions of role(s) ${list(notRevoked)} not revoked${restricted.length ? `; trust restricted on ${list(restricted)}, but sessions issued before it stay valid` : ''}`,
    };
  }
  const at = [...revokedAt.values()].sort().at(-1)!;
  const note = notRestricted.length
    ? `sessions revoked on ${list([...roles])}, but the trust policy of ${list(notRestricted)} was not restricted: the workflow can assume the role again`
    : `sessions revoked and trust restricted on ${list([...roles])}`;
  return { ...base, status: 'revoked', at, open: false, note };
}

export function findingsBySeverity(c: Collected): Metrics['findingsBySeverity'] {
  const counts = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  for (const { value } of c.findings) {
    if (value.severity in counts) counts[value.severity]++;
  }
  return counts;
}

/** Steps by their last phase. `applied` with no verify counts as unverified: nobody checked it. */
export function stepCounts(c: Collected): Metrics['steps'] {
  const unverified: StepProblem[] = [];
  const failed: StepProblem[] = [];
  let verified = 0;
  let skipped = 0;
  for (const [key, records] of c.steps) {
    const last = lastPhase(records);
    if (!last) continue;
    const at = isoOrUndefined(last.at) ?? new Date(0).toISOString();
    const base = { key, action: last.action, at, journalSeq: last.seq };
    if (last.phase === 'verified') verified++;
    else if (last.phase === 'skipped') skipped++;
    else if (last.phase === 'unverified') unverified.push({ ...base, detail: last.verify?.detail ?? 'verify did not confirm the change' });
    else if (last.phase === 'applied') unverified.push({ ...base, detail: 'applied, never verified' });
    else if (last.phase === 'failed') failed.push({ ...base, detail: last.error?.message ?? 'failed' });
    else if (last.phase === 'compensated') failed.push({ ...base, detail: 'compensated (undone) after a failure' });
  }
  return { total: c.steps.size, verified, skipped, unverified, failed };
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}
