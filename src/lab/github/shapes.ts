import { createHash } from 'node:crypto';
import type { DeployKeyState, EnvironmentState, JobState, OrgSecretState, RepoState, RunState, SecretState, WorkflowState } from './world.js';
import { isoSeconds } from './world.js';

/**
 * JSON bodies in the shapes GitHub documents (components/schemas of @octokit/openapi); the
 * tests validate each against the official description. `api` is the lab's base URL, used for
 * every `url` field so a client following one stays in the lab.
 */
export interface UrlBase {
  api: string;
  /** Where `html_url`s point: the lab has no web UI, so this is the lab base too. */
  html: string;
}

/** Node ids are opaque strings on GitHub; the lab makes them from the kind and numeric id. */
export function nodeId(kind: string, id: number): string {
  return Buffer.from(`${kind}:${id}`).toString('base64').replace(/=+$/, '');
}

/** A stable numeric user id for a login (actors in runs, token owners). */
function userId(login: string): number {
  return 1_000_000 + (createHash('sha256').update(`user:${login}`).digest().readUInt32BE(0) % 90_000_000);
}

export function simpleUser(base: UrlBase, login: string, type: 'User' | 'Organization' | 'Bot' = 'User') {
  const url = `${base.api}/users/${login}`;
  const id = userId(login);
  return {
    login,
    id,
    node_id: nodeId(type === 'Organization' ? 'Organization' : 'User', id),
    avatar_url: `${base.html}/avatars/u/${id}`,
    gravatar_id: '',
    url,
    html_url: `${base.html}/${login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type,
    user_view_type: 'public',
    site_admin: false,
  };
}

/** `GET /user`: the private-user shape for the token's owner. */
export function privateUser(base: UrlBase, login: string, createdAt: Date) {
  return {
    ...simpleUser(base, login),
    name: login,
    company: null,
    blog: '',
    location: null,
    email: null,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: isoSeconds(createdAt),
    updated_at: isoSeconds(createdAt),
    private_gists: 0,
    total_private_repos: 0,
    owned_private_repos: 0,
    disk_usage: 0,
    collaborators: 0,
    two_factor_authentication: true,
    plan: { name: 'pro', space: 976562499, private_repos: 9999, collaborators: 0 },
  };
}

export function minimalRepository(base: UrlBase, repo: RepoState) {
  const url = `${base.api}/repos/${repo.fullName}`;
  return {
    id: repo.id,
    node_id: nodeId('Repository', repo.id),
    name: repo.name,
    full_name: repo.fullName,
    private: repo.private,
    owner: simpleUser(base, repo.owner, 'Organization'),
    html_url: `${base.html}/${repo.fullName}`,
    description: null,
    fork: false,
    url,
    archive_url: `${url}/{archive_format}{/ref}`,
    assignees_url: `${url}/assignees{/user}`,
    blobs_url: `${url}/git/blobs{/sha}`,
    branches_url: `${url}/branches{/branch}`,
    collaborators_url: `${url}/collaborators{/collaborator}`,
    comments_url: `${url}/comments{/number}`,
    commits_url: `${url}/commits{/sha}`,
    compare_url: `${url}/compare/{base}...{head}`,
    contents_url: `${url}/contents/{+path}`,
    contributors_url: `${url}/contributors`,
    deployments_url: `${url}/deployments`,
    downloads_url: `${url}/downloads`,
    events_url: `${url}/events`,
    forks_url: `${url}/forks`,
    git_commits_url: `${url}/git/commits{/sha}`,
    git_refs_url: `${url}/git/refs{/sha}`,
    git_tags_url: `${url}/git/tags{/sha}`,
    hooks_url: `${url}/hooks`,
    issue_comment_url: `${url}/issues/comments{/number}`,
    issue_events_url: `${url}/issues/events{/number}`,
    issues_url: `${url}/issues{/number}`,
    keys_url: `${url}/keys{/key_id}`,
    labels_url: `${url}/labels{/name}`,
    languages_url: `${url}/languages`,
    merges_url: `${url}/merges`,
    milestones_url: `${url}/milestones{/number}`,
    notifications_url: `${url}/notifications{?since,all,participating}`,
    pulls_url: `${url}/pulls{/number}`,
    releases_url: `${url}/releases{/id}`,
    stargazers_url: `${url}/stargazers`,
    statuses_url: `${url}/statuses/{sha}`,
    subscribers_url: `${url}/subscribers`,
    subscription_url: `${url}/subscription`,
    tags_url: `${url}/tags`,
    teams_url: `${url}/teams`,
    trees_url: `${url}/git/trees{/sha}`,
  };
}

/** `GET /orgs/{org}/repos` items: minimal-repository plus the fields that list fills. */
export function listedRepository(base: UrlBase, repo: RepoState) {
  return {
    ...minimalRepository(base, repo),
    default_branch: repo.defaultBranch,
    visibility: repo.private ? 'private' : 'public',
    archived: false,
    disabled: false,
    created_at: isoSeconds(repo.createdAt),
    updated_at: isoSeconds(repo.createdAt),
    pushed_at: isoSeconds(repo.createdAt),
    permissions: { admin: true, maintain: true, push: true, triage: true, pull: true },
  };
}

/** `GET /repos/{owner}/{repo}`: the full-repository shape. */
export function fullRepository(base: UrlBase, repo: RepoState) {
  const minimal = minimalRepository(base, repo);
  const host = new URL(base.html).host;
  return {
    ...minimal,
    clone_url: `${base.html}/${repo.fullName}.git`,
    git_url: `git://${host}/${repo.fullName}.git`,
    ssh_url: `git@${host}:${repo.fullName}.git`,
    svn_url: `${base.html}/${repo.fullName}`,
    mirror_url: null,
    homepage: null,
    language: null,
    forks: 0,
    forks_count: 0,
    stargazers_count: 0,
    watchers: 0,
    watchers_count: 0,
    size: 0,
    default_branch: repo.defaultBranch,
    open_issues: 0,
    open_issues_count: 0,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    visibility: repo.private ? 'private' : 'public',
    pushed_at: isoSeconds(repo.createdAt),
    created_at: isoSeconds(repo.createdAt),
    updated_at: isoSeconds(repo.createdAt),
    permissions: { admin: true, maintain: true, push: true, triage: true, pull: true },
    license: null,
    network_count: 0,
    subscribers_count: 0,
    organization: simpleUser(base, repo.owner, 'Organization'),
  };
}

export function workflow(base: UrlBase, repo: RepoState, state: WorkflowState) {
  return {
    id: state.id,
    node_id: nodeId('Workflow', state.id),
    name: state.name,
    path: state.path,
    state: state.state,
    created_at: isoSeconds(state.createdAt),
    updated_at: isoSeconds(state.updatedAt),
    url: `${base.api}/repos/${repo.fullName}/actions/workflows/${state.id}`,
    html_url: `${base.html}/${repo.fullName}/blob/${repo.defaultBranch}/${state.path}`,
    badge_url: `${base.html}/${repo.fullName}/workflows/${encodeURIComponent(state.name)}/badge.svg`,
  };
}

export function workflowRun(base: UrlBase, repo: RepoState, run: RunState) {
  const url = `${base.api}/repos/${repo.fullName}/actions/runs/${run.id}`;
  const actor = simpleUser(base, run.actor);
  const started = run.jobs.length > 0 ? new Date(Math.min(...run.jobs.map((job) => job.startedAt.getTime()))) : run.createdAt;
  return {
    id: run.id,
    name: run.name,
    node_id: nodeId('WorkflowRun', run.id),
    head_branch: run.headBranch,
    head_sha: run.headSha,
    path: run.workflowPath,
    display_title: run.name,
    run_number: run.runNumber,
    event: run.event,
    status: run.status,
    conclusion: run.conclusion,
    workflow_id: run.workflowId,
    check_suite_id: run.id + 1,
    check_suite_node_id: nodeId('CheckSuite', run.id + 1),
    url,
    html_url: `${base.html}/${repo.fullName}/actions/runs/${run.id}`,
    pull_requests: [],
    created_at: isoSeconds(run.createdAt),
    updated_at: isoSeconds(run.updatedAt),
    actor,
    triggering_actor: actor,
    run_attempt: 1,
    referenced_workflows: [],
    run_started_at: isoSeconds(started),
    jobs_url: `${url}/jobs`,
    logs_url: `${url}/logs`,
    check_suite_url: `${base.api}/repos/${repo.fullName}/check-suites/${run.id + 1}`,
    artifacts_url: `${url}/artifacts`,
    cancel_url: `${url}/cancel`,
    rerun_url: `${url}/rerun`,
    previous_attempt_url: null,
    workflow_url: `${base.api}/repos/${repo.fullName}/actions/workflows/${run.workflowId}`,
    head_commit: {
      id: run.headSha,
      tree_id: createHash('sha1').update(`tree:${run.headSha}`).digest('hex'),
      message: `Commit ${run.headSha.slice(0, 7)}`,
      timestamp: isoSeconds(run.createdAt),
      author: { name: run.actor, email: `${run.actor}@users.noreply.github.com` },
      committer: { name: 'GitHub', email: 'noreply@github.com' },
    },
    repository: minimalRepository(base, repo),
    head_repository: minimalRepository(base, repo),
  };
}

export function job(base: UrlBase, repo: RepoState, run: RunState, state: JobState) {
  const url = `${base.api}/repos/${repo.fullName}/actions/jobs/${state.id}`;
  const ran = state.status !== 'queued';
  return {
    id: state.id,
    run_id: run.id,
    workflow_name: run.name,
    head_branch: run.headBranch,
    run_url: `${base.api}/repos/${repo.fullName}/actions/runs/${run.id}`,
    run_attempt: 1,
    node_id: nodeId('CheckRun', state.id),
    head_sha: run.headSha,
    url,
    html_url: `${base.html}/${repo.fullName}/actions/runs/${run.id}/job/${state.id}`,
    status: state.status,
    conclusion: state.conclusion,
    created_at: isoSeconds(run.createdAt),
    started_at: isoSeconds(state.startedAt),
    completed_at: state.completedAt ? isoSeconds(state.completedAt) : null,
    name: state.name,
    steps: [],
    check_run_url: `${base.api}/repos/${repo.fullName}/check-runs/${state.id}`,
    labels: ['ubuntu-latest'],
    // A queued job has no runner yet: GitHub reports nulls until one picks it up.
    runner_id: ran ? 1 : null,
    runner_name: ran ? 'GitHub Actions 1' : null,
    runner_group_id: ran ? 2 : null,
    runner_group_name: ran ? 'GitHub Actions' : null,
  };
}

export function actionsSecret(secret: SecretState) {
  return { name: secret.name, created_at: isoSeconds(secret.createdAt), updated_at: isoSeconds(secret.updatedAt) };
}

export function orgSecret(base: UrlBase, org: string, secret: OrgSecretState) {
  return {
    ...actionsSecret(secret),
    visibility: secret.visibility,
    ...(secret.visibility === 'selected'
      ? { selected_repositories_url: `${base.api}/orgs/${org}/actions/secrets/${secret.name}/repositories` }
      : {}),
  };
}

export function environment(base: UrlBase, repo: RepoState, env: EnvironmentState) {
  return {
    id: env.id,
    node_id: nodeId('Environment', env.id),
    name: env.name,
    url: `${base.api}/repos/${repo.fullName}/environments/${encodeURIComponent(env.name)}`,
    html_url: `${base.html}/${repo.fullName}/deployments/activity_log?environments_filter=${encodeURIComponent(env.name)}`,
    created_at: isoSeconds(env.createdAt),
    updated_at: isoSeconds(env.createdAt),
    protection_rules: [],
    deployment_branch_policy: null,
  };
}

export function deployKey(base: UrlBase, repo: RepoState, key: DeployKeyState) {
  return {
    id: key.id,
    key: key.key,
    url: `${base.api}/repos/${repo.fullName}/keys/${key.id}`,
    title: key.title,
    verified: true,
    created_at: isoSeconds(key.createdAt),
    read_only: key.readOnly,
    added_by: null,
    last_used: null,
    enabled: true,
  };
}

/** Git's blob id of a file: the `sha` the contents API returns. */
export function blobSha(content: string): string {
  const bytes = Buffer.from(content, 'utf8');
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

function contentUrls(base: UrlBase, repo: RepoState, path: string, type: 'file' | 'dir', sha: string) {
  const self = `${base.api}/repos/${repo.fullName}/contents/${path}?ref=${repo.defaultBranch}`;
  const html = `${base.html}/${repo.fullName}/${type === 'file' ? 'blob' : 'tree'}/${repo.defaultBranch}/${path}`;
  const git = `${base.api}/repos/${repo.fullName}/git/${type === 'file' ? 'blobs' : 'trees'}/${sha}`;
  return {
    url: self,
    html_url: html,
    git_url: git,
    download_url: type === 'file' ? `${base.api}/_lab/raw/${repo.fullName}/${repo.defaultBranch}/${path}` : null,
    _links: { self, git, html },
  };
}

/** `GET .../contents/{path}` of a file: base64 content wrapped at 60 characters, as GitHub does. */
export function contentFile(base: UrlBase, repo: RepoState, path: string, content: string) {
  const sha = blobSha(content);
  const encoded = Buffer.from(content, 'utf8').toString('base64').replace(/(.{60})/g, '$1\n');
  return {
    type: 'file',
    encoding: 'base64',
    size: Buffer.byteLength(content, 'utf8'),
    name: path.split('/').pop()!,
    path,
    content: encoded.endsWith('\n') ? encoded : `${encoded}\n`,
    sha,
    ...contentUrls(base, repo, path, 'file', sha),
  };
}

/** One entry of a directory listing (no content, as GitHub lists it). */
export function contentEntry(base: UrlBase, repo: RepoState, path: string, type: 'file' | 'dir', content?: string) {
  const sha = type === 'file' ? blobSha(content ?? '') : createHash('sha1').update(`tree:${repo.fullName}:${path}`).digest('hex');
  return {
    type,
    size: type === 'file' ? Buffer.byteLength(content ?? '', 'utf8') : 0,
    name: path.split('/').pop()!,
    path,
    sha,
    ...contentUrls(base, repo, path, type, sha),
  };
}
