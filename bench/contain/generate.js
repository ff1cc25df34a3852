// Builds the contain benchmark's lab scenarios from the shipped tj-actions scenario (read, never
// changed): "small" is its one repository with three roles that admit it; "large" is 50
// repositories running the same compromised workflow, 20 roles admitting them (each role 5 to
// 10 repositories), across 3 accounts; "huge" is the same with 200 repositories. Usage: import { writeScenarios } from './generate.js'.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE = join(root, 'scenarios/tj-actions-log-leak.yaml');
const ACCOUNT = '123456789012';
const PROVIDER = (account) => `arn:aws:iam::${account}:oidc-provider/token.actions.githubusercontent.com`;

/** A GitHub OIDC trust policy admitting `subjects` (StringLike). */
function trust(account, subjects) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: PROVIDER(account) },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' }, StringLike: { 'token.actions.githubusercontent.com:sub': subjects } },
      },
    ],
  };
}

function small(base) {
  const doc = structuredClone(base);
  // deploy and fleet-readonly admit fleet-api already; a third role does too.
  doc.aws.accounts[0].roles.push({ name: 'fleet-migrate', trust_policy: trust(ACCOUNT, ['repo:acme-robotics/fleet-api:ref:refs/heads/main']) });
  doc.name = 'bench-1-repo-3-roles';
  return doc;
}

function large(base, count = 50) {
  const doc = structuredClone(base);
  const template = doc.github.repos[0];
  const repos = [];
  for (let i = 0; i < count; i += 1) {
    const repo = structuredClone(template);
    const name = i === 0 ? 'fleet-api' : `fleet-svc-${String(i).padStart(count > 100 ? 3 : 2, '0')}`;
    repo.full_name = `acme-robotics/${name}`;
    repo.id = 700100200 + i;
    repo.workflows = repo.workflows.map((workflow, w) => ({ ...workflow, id: 81000001 + i * 10 + w }));
    // The first repository keeps the incident's runs (and the leaked session); every other one
    // has one Deploy run in progress, for cancel-runs to stop.
    if (i > 0) {
      repo.runs = [
        {
          id: 9123460000 + i,
          workflow: '.github/workflows/deploy.yml',
          event: 'push',
          actor: 'dev-lee',
          head_sha: `${String(i).padStart(3, '0')}${'a'.repeat(37)}`,
          status: 'in_progress',
          conclusion: null,
          created_at: '-3m',
          jobs: [{ name: 'deploy', status: 'in_progress', conclusion: null, started_at: '-2m' }],
        },
      ];
    }
    repos.push(repo);
  }
  doc.github.repos = repos;
  const names = repos.map((repo) => repo.full_name);
  const prod = doc.aws.accounts[0];
  // 20 roles in the responder's account: deploy and fleet-readonly (as shipped) and 18 more,
  // each admitting a window of 5 to 10 of the repositories.
  prod.roles.find((role) => role.name === 'deploy').trust_policy = trust(ACCOUNT, names.slice(0, 10).map((n) => `repo:${n}:*`));
  for (let r = 0; r < 18; r += 1) {
    const start = (r * 3) % Math.max(1, count - 5);
    const width = 5 + (r % 6);
    prod.roles.push({ name: `svc-deploy-${String(r).padStart(2, '0')}`, trust_policy: trust(ACCOUNT, names.slice(start, start + width).map((n) => `repo:${n}:*`)) });
  }
  // A third account (two are shipped): the same shape as staging.
  doc.aws.accounts.push({ id: '333344445555', alias: 'acme-dr', roles: [structuredClone(doc.aws.accounts[1].roles[0])] });
  doc.aws.accounts[2].roles[0].trust_policy = trust('333344445555', ['repo:acme-robotics/*']);
  doc.incident.repos = names;
  doc.name = `bench-${count}-repos-20-roles-3-accounts`;
  return doc;
}

/** Writes both scenarios into `dir` (scenario-relative files are not used by this scenario). */
export function writeScenarios(dir) {
  mkdirSync(dir, { recursive: true });
  const base = parse(readFileSync(SOURCE, 'utf8'));
  const files = { small: join(dir, 'contain-small.yaml'), large: join(dir, 'contain-large.yaml'), huge: join(dir, 'contain-200.yaml') };
  writeFileSync(files.small, stringify(small(base)));
  writeFileSync(files.large, stringify(large(base)));
  writeFileSync(files.huge, stringify(large(base, 200)));
  return files;
}
