/**
 * The evidence records actions write with `ctx.evidence(kind, data)` and the timeline report
 * reads back from the journal. One type per kind; producers and the report share them.
 */
export interface EvidenceByKind {
  /** github.collect-evidence: the workflow's recent runs, recorded before any mutation. */
  'workflow-runs': {
    repo: string;
    workflow: string;
    runs: Array<{
      id: number;
      html_url?: string;
      actor?: string;
      event: string;
      head_branch?: string | null;
      head_sha: string;
      status: string | null;
      conclusion: string | null;
      created_at: string;
      updated_at?: string;
      jobs: Array<{ id: number; name: string; started_at: string | null; completed_at: string | null; conclusion: string | null }>;
    }>;
  };
  /** github.inventory: what the workflow can reach. */
  inventory: {
    repo: string;
    workflow: string;
    items: InventoryItem[];
  };
  /** npm.audit-publishes: versions published in the window and the release runs they were checked against. */
  'npm-publishes': {
    registry: string;
    since: string;
    until: string;
    publishes: Array<{ package: string; version: string; published_at: string; run_id?: number }>;
    release_runs: Array<{ id: number; created_at: string; conclusion: string | null }>;
  };
  /** Any action that issues, rotates, revokes, deactivates or deletes a credential. */
  credential: CredentialEvent;
  /** The hunt: CloudTrail events that matched a hunted identity (no secrets in CloudTrail). */
  'cloudtrail-events': {
    events: Array<{
      eventID: string;
      eventTime: string;
      eventSource: string;
      eventName: string;
      awsRegion: string;
      identity: string;
      accessKeyId?: string;
      sourceIPAddress?: string;
      userAgent?: string;
      errorCode?: string;
    }>;
  };
  /**
   * Whether an account was searched or a region hunted. A `gap` (the last record per scope and
   * id) is an open item of the containment verdict (src/report/verdict.ts) until a later record
   * says `searched`. `id` is the account id, or `<account>/<region>` (or the region) for a region.
   */
  coverage: {
    scope: 'account' | 'region';
    id: string;
    status: 'searched' | 'gap';
    reason?: string;
  };
}

export interface InventoryItem {
  kind: 'repo-secret' | 'environment-secret' | 'org-secret' | 'oidc-role' | 'github-token' | 'all-secrets';
  /** Secret name, role ARN, `GITHUB_TOKEN`. */
  name: string;
  /** Where it is defined: `repo:o/r`, `env:o/r/prod`, `org:acme`, `aws:111122223333`. */
  scope: string;
  /** Jobs that reach it (`workflow.yml#job`). */
  jobs: string[];
  /** The action that rotates or revokes it, or `manual`. */
  rotation: string;
  /** Why, for a human: the token's permissions, "holds a role ARN, not a credential", ... */
  detail?: string;
  /**
   * The external system the credential opens: `aws:<account>` (`aws:unknown` when the account
   * is not in the workflow), `npm:<registry host>`, `github:<org>`, or `unknown`.
   */
  opens?: string;
  /** Who rotates it: from `.github/cicd-ir-owners.yml`, else the CODEOWNERS entry of the workflow file, else `unknown`. */
  owner?: string;
}

export interface CredentialEvent {
  /** AKIA/ASIA key id, `secret:o/r/NAME`, role ARN, token fingerprint. Never a secret value. */
  credential: string;
  kind: 'aws-access-key' | 'aws-role-sessions' | 'aws-user-sessions' | 'github-secret' | 'github-token' | 'deploy-key' | 'oidc-trust' | 'npm-token';
  event: 'issued' | 'rotated' | 'revoked' | 'deactivated' | 'deleted' | 'restricted';
  at: string;
  fingerprint?: string;
  detail?: string;
  /**
   * oidc-trust only: the OIDC subject patterns (StringLike, `repo:o/r:*`) the trust policy no
   * longer admits. The report matches them against the inventory's oidc-role subjects.
   */
  subjects?: string[];
}

export type EvidenceKind = keyof EvidenceByKind;
