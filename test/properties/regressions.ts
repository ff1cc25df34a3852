import type { WorldParams } from './worlds.js';

/**
 * Worlds a run of the property test found breaking the containment invariant, replayed first
 * (by parameters, so a change of the generator's draws does not lose them), each reduced by hand
 * to what still breaks it. `known`: the bug belongs to another area and is not fixed on this
 * branch yet; the case is expected to fail (it.fails) until that fix is merged, then `known` is
 * removed and the case must pass.
 */
export interface Regression {
  name: string;
  /** How the world was found: `seed <n> path <i>` of test/properties/containment.test.ts. */
  found: string;
  params: WorldParams;
  known?: string;
}

/** The smallest world: one account, one OIDC role, nothing else. Regressions change what matters. */
const base: WorldParams = {
  seed: 1822330800,
  org: 'acme',
  repo: 'payments',
  flagCase: 'exact',
  immutableSubject: false,
  privateRepo: true,
  environment: 'none',
  siblingRepo: false,
  accounts: 1,
  roles: [{ account: 0, trust: 'branch', named: 'no', canMintKeys: false }],
  chained: null,
  users: [],
  secrets: [],
  githubToken: null,
  npmToken: null,
  attacker: { mintKey: false, readSecret: false, useStaticKey: false },
  inProgressRun: false,
  faults: 'none',
};

export const regressions: Regression[] = [
  {
    // --repo acme/web.app for GitHub's acme/Web.App: the trust `repo:acme/*` admits the real
    // subject; the restriction denies `repo:acme/web.app:*`, which IAM's case-sensitive
    // StringLike never matches, and the step reports the role restricted: exit 0.
    name: 'repository typed in another case, org-wide trust: false all-clear',
    found: 'seed 1001 path 37 (reduced)',
    params: { ...base, repo: 'Web.App', flagCase: 'lower', roles: [{ account: 0, trust: 'org-wildcard', named: 'no', canMintKeys: false }] },
  },
  {
    // A second account's role trusts `repo:acme/*`: role discovery looks only at the responder's
    // account and the report never mentions the other: exit 0 (the tj-actions scenario's own case).
    name: "another account's role admits the repository: false all-clear",
    found: 'seed 1001 paths 9, 35 (reduced)',
    params: { ...base, accounts: 2, roles: [{ account: 0, trust: 'branch', named: 'no', canMintKeys: false }, { account: 1, trust: 'org-wildcard', named: 'no', canMintKeys: false }] },
  },
  {
    // The job's role lives in another account: its session is never revoked, the trust never
    // restricted, and no open item names the role, the session or the subject (exit 3 for other reasons, or 0).
    name: "the job's role in another account: its session and re-assumption stay open, unnamed",
    found: 'seed 2002 path 64 (reduced)',
    params: { ...base, accounts: 2, roles: [{ account: 1, trust: 'repo-wildcard', named: 'no', canMintKeys: false }, { account: 0, trust: 'branch', named: 'no', canMintKeys: false }] },
  },
  {
    // The attacker used the job's session to assume a role in another account (a chained role):
    // revoking the job's role does not end that session (FACTS: role chaining), nothing revoked
    // the chained role, and the hunt's new-credentials-minted finding did not block: exit 0 or an
    // unnamed exit 3.
    name: "a chained role's session the attacker minted: false all-clear",
    found: 'seed 1975763347 paths 64, 101, 107, 126, 174 (world 64 shrunk by fast-check)',
    params: { ...base, environment: 'staging', accounts: 2, memberAccess: 'role', roles: [{ account: 0, trust: 'mixed-case', named: 'arn', canMintKeys: false }], chained: { fromRole: 0, account: 1 }, attacker: { mintKey: true, readSecret: false, useStaticKey: false }, inProgressRun: true },
    known: "a chained role's sessions: no step revokes them and the hunt does not flag an AssumeRole made while the job ran (issue 14)",
  },
];
