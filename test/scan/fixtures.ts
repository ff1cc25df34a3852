/**
 * Planted credentials for the scanner and leak-triage tests. They have the real formats but
 * are made up here (no vendor would accept them); every test searches its outputs for each of
 * these values to prove none is echoed.
 */
export const planted = {
  ghp: 'ghp_' + 'Q7wE9rT1yU3iO5pA7sD9fG1hJ3kL5zX7cV9b',
  ghs: 'ghs_' + 'M2nB4vC6xZ8aS0dF2gH4jK6lQ8wE0rT2yU4i',
  githubPat: 'github_pat_' + '11ABCDEFG0' + 'x'.repeat(12) + '_' + 'Zq9Wm3Kp7Lr2Tn8Vb4Xc6Yd1Fg5Hj0Ks3Lu7Mw9Ne2Pr4Qt6Sv8Uy1Wz3Ab5Cd7Ef9G',
  npm: 'npm_' + 'aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1eF3hJ5',
  awsKeyId: 'AKIA' + 'Z3Q7W2E5R8T1Y4U6',
  awsSecret: 'q8Rz/T3vW6yB9eH2kN5pS8uX1aD4gJ7mP0sV3y+Z',
  slack: 'xoxb-' + '1234567890-0987654321-aBcDeFgHiJkLmNoPqRsTuVwX',
  google: 'AIza' + 'Sy9Xk2Lm4Np6Qr8St0Uv2Wx4Yz6Ab8Cd0Ef',
  stripe: 'sk_live_' + '51Hx9Kq2Lm4Np6Qr8St0Uv2Wx',
  jwt: 'eyJhbGciOiJIUzI1NiJ9.' + 'eyJzdWIiOiJyZWxlYXNlLWJvdCIsImlhdCI6MTcwMDAwMDAwMH0.' + 'Xk3Lq9Zr2Vt8Wm4Pn6Bs1Cd7Fg5Hj0Ks',
  generic: 'Vq8#Lm2$Rz7!Tk4pWn9x',
  pemBody: ['MIIEowIBAAKCAQEAy8Dbv8prpJ/0kKhlGeJYozo2t60EG8L0561g13R29LvMR5hy', 'vGZlGJpmn65+A4xHXInJYiPuKzrKUnApeLZ+vw1HocOAZtWK0z3r26uA8kQYOKX9', 'Qt/DbCdvsF9wF8gRK0ptx9M6R13NvBxvVQApfc9jB9nTzphOgM4JiEYvlV8FLhg9'],
  runnerOnly: 'plain-but-marked-secret-42',
} as const;

export const pem = ['-----BEGIN RSA PRIVATE KEY-----', ...planted.pemBody, '-----END RSA PRIVATE KEY-----'].join('\n');

/** Every value a test must never find in an output (the AWS key id is not secret: it is an output). */
export function secretValues(): string[] {
  const { awsKeyId: _keyId, pemBody, ...rest } = planted;
  return [...Object.values(rest), ...pemBody];
}

/** The tj-actions payload: runner secret entries, `sort -u | base64 -w 0 | base64 -w 0`. */
export function tjActionsDump(entries: Record<string, string>): string {
  const lines = Object.entries(entries)
    .map(([name, value]) => `${JSON.stringify(name)}:{"value":${JSON.stringify(value)},"isSecret":true}`)
    .sort()
    .join('\n');
  return Buffer.from(Buffer.from(lines).toString('base64')).toString('base64');
}

/** A job log as GitHub writes it: timestamped lines, a step per `##[group]Run ...`. */
export function jobLog(lines: string[]): string {
  const start = Date.parse('2025-03-14T16:00:00Z');
  return `${lines.map((line, i) => `${new Date(start + i * 1000).toISOString().replace('Z', '0000Z')} ${line}`).join('\n')}\n`;
}

/** The log of a job that ran the compromised tj-actions/changed-files step. */
export function compromisedJobLog(): string {
  return jobLog([
    '##[group]Run actions/checkout@v4',
    'Syncing repository: acme/site',
    '##[endgroup]',
    '##[group]Run tj-actions/changed-files@v45',
    'with:',
    '  files: src/**',
    '##[endgroup]',
    tjActionsDump({ GITHUB_TOKEN: planted.ghs, NPM_TOKEN: planted.npm, DEPLOY_KEY: pem, AWS_SECRET_ACCESS_KEY: planted.awsSecret, MARKED: planted.runnerOnly }),
    '##[group]Run ./deploy.sh',
    `export AWS_ACCESS_KEY_ID=${planted.awsKeyId}`,
    `export AWS_SECRET_ACCESS_KEY=${planted.awsSecret}`,
    `git remote set-url origin https://x-access-token:${planted.ghp}@github.com/acme/site`,
    'GITHUB_TOKEN: ***',
    '##[endgroup]',
  ]);
}
