/**
 * How clients are built. Real use fills it from flags and the environment; the lab fills
 * the same fields with its local endpoints and fake credentials. Nothing else differs.
 */
export interface ProviderConfig {
  /** Refuse every mutating request at the client level (second safety net under plan-only). */
  dryRun: boolean;
  /** Names the incident in AWS session names and the GitHub user agent. */
  incident: string;
  github: {
    /** REST base URL, e.g. https://api.github.com or GHES https://ghe.example/api/v3 (or the lab's). */
    apiUrl?: string;
    /** A token given explicitly (the lab's); otherwise GH_TOKEN, GITHUB_TOKEN, `gh auth token`, or an App. */
    token?: string;
    app?: { appId: string; privateKey: string; installationId: string };
    /**
     * Minimum milliseconds between mutating requests. Unset: plugin-throttling's default of
     * 1,000 (GitHub asks for at least a second between writes). The lab sets a shorter pace.
     */
    writeIntervalMs?: number;
    /**
     * Milliseconds one HTTP attempt may take before it is aborted (and, for GET/PUT/DELETE,
     * retried). Default 120,000: a cut network must not hang a containment.
     */
    requestTimeoutMs?: number;
    /**
     * The longest wait for GitHub's primary rate limit to reset (x-ratelimit-reset) before the
     * request fails instead. Default 3,600 s: a containment waits, printing the time left, rather
     * than failing (the hourly window resets within the hour). 0: never wait.
     */
    maxPrimaryWaitSeconds?: number;
  };
  aws: {
    profile?: string;
    region?: string;
    /** Endpoint overrides per service (the SDK also honours AWS_ENDPOINT_URL_<SERVICE> by itself). */
    endpoints?: Partial<Record<'iam' | 'sts' | 'cloudtrail' | 's3' | 'athena' | 'organizations' | 'account' | 'ec2', string>>;
    /** Static credentials given explicitly (the lab's fake ones); otherwise the SDK's default chain. */
    credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
    maxAttempts?: number;
    /** The SDK's retry mode; unset leaves it to AWS_RETRY_MODE / the profile (default `standard`). */
    retryMode?: 'standard' | 'adaptive';
  };
  /**
   * The npm registry (npm.revoke-token, npm.audit-publishes). Unset fields fall back to
   * NPM_CONFIG_REGISTRY / NPM_TOKEN / .npmrc (src/providers/npm.ts).
   */
  npm?: { registryUrl?: string; token?: string };
  /** Called once per HTTP API call made by any client, for the journal. */
  onApiCall?: (call: ApiCallRecord) => void;
}

/** One API call as the journal records it. Never holds request or response bodies. */
export interface ApiCallRecord {
  service: string;
  operation: string;
  mutating: boolean;
  status?: number;
  requestId?: string;
  durationMs: number;
  error?: string;
  /** Account id or host the call went to. */
  target?: string;
}
