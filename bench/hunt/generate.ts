/**
 * Generates a realistic CloudTrail corpus in the S3 delivery layout, gzipped:
 * `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<stamp>_<id>.json.gz`,
 * each file `{"Records":[...]}` with 50-400 records (CloudTrail delivers about every 5 minutes
 * per region). Mostly ordinary traffic by many principals, plus a planted incident: a leaked
 * job session key used after its job, which mints a user key, and a StopLogging.
 *
 *   node --import tsx bench/hunt/generate.ts [--events 200000] [--out bench/out/corpus] [--seed 7]
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { seededRandom as rng } from '../../src/lab/context.js';

export const LEAKED_KEY = 'ASIABENCHLEAKED00001';
export const MINTED_KEY = 'AKIABENCHMINTED00001';
export const ACCOUNT = '123456789012';
export const START = Date.UTC(2026, 9, 1);


const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];
const CALLS: Array<[string, string, boolean]> = [
  ['ec2.amazonaws.com', 'DescribeInstances', true],
  ['ec2.amazonaws.com', 'DescribeSecurityGroups', true],
  ['s3.amazonaws.com', 'ListBuckets', true],
  ['s3.amazonaws.com', 'GetBucketPolicy', true],
  ['iam.amazonaws.com', 'GetRole', true],
  ['iam.amazonaws.com', 'ListRoles', true],
  ['sts.amazonaws.com', 'AssumeRole', false],
  ['sts.amazonaws.com', 'GetCallerIdentity', true],
  ['lambda.amazonaws.com', 'ListFunctions20150331', true],
  ['kms.amazonaws.com', 'Decrypt', true],
  ['logs.amazonaws.com', 'CreateLogStream', false],
  ['ssm.amazonaws.com', 'GetParameter', true],
  ['ecr.amazonaws.com', 'GetAuthorizationToken', true],
  ['cloudformation.amazonaws.com', 'DescribeStacks', true],
];

function hex(random: () => number, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += Math.floor(random() * 16).toString(16);
  return out;
}

function upper(random: () => number, n: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  for (let i = 0; i < n; i++) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

function uuid(random: () => number): string {
  const h = hex(random, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function generate(options: { events: number; out: string; seed?: number }): { files: number; events: number; bytes: number } {
  const random = rng(options.seed ?? 7);
  rmSync(options.out, { recursive: true, force: true });
  const users = Array.from({ length: 60 }, (_, i) => ({ name: `user-${i}`, key: `AKIA${upper(random, 16)}`, ip: `198.51.100.${i + 1}` }));
  const roles = Array.from({ length: 25 }, (_, i) => ({ name: `role-${i}`, id: `AROA${upper(random, 17)}` }));
  const sessions = Array.from({ length: 400 }, (_, i) => {
    const role = roles[i % roles.length]!;
    return { role, name: `session-${i}`, key: `ASIA${upper(random, 16)}`, created: START + Math.floor(random() * 30 * 86_400_000), ip: `10.0.${i % 250}.${(i * 7) % 250}` };
  });
  const agents = ['aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64.amzn.2023', 'aws-sdk-js/3.600.0 ua/2.0 os/linux#6.1 lang/js md/nodejs#20.11.1', 'Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1 Python/3.12.2', 'terraform-provider-aws/5.40.0'];

  const total = options.events;
  const span = 30 * 86_400_000;
  const incidentAt = START + span / 2;
  let files = 0;
  let bytes = 0;
  let written = 0;
  let planted = 0;
  const perFileMax = 400;
  const fileCount = Math.max(1, Math.ceil(total / ((50 + perFileMax) / 2)));
  for (let f = 0; f < fileCount && written < total; f++) {
    const region = REGIONS[f % REGIONS.length]!;
    const delivered = START + Math.floor((f / fileCount) * span);
    const count = Math.min(total - written, f === fileCount - 1 ? total - written : 50 + Math.floor(random() * (perFileMax - 50)));
    const records: unknown[] = [];
    for (let i = 0; i < count; i++) {
      const at = delivered - Math.floor(random() * 300_000);
      const [source, name, readOnly] = CALLS[Math.floor(random() * CALLS.length)]!;
      let identity: Record<string, unknown>;
      let ip: string;
      const pick = random();
      // Plant the incident: about 1 in 5,000 records is the leaked key, after the job, from elsewhere.
      const leaked = at > incidentAt && random() < 0.0002;
      if (leaked || pick < 0.55) {
        const session = leaked ? { role: roles[0]!, name: 'GitHubActions', key: LEAKED_KEY, created: incidentAt - 3_600_000, ip: '203.0.113.66' } : sessions[Math.floor(random() * sessions.length)]!;
        identity = {
          type: 'AssumedRole',
          principalId: `${session.role.id}:${session.name}`,
          arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${session.role.name}/${session.name}`,
          accountId: ACCOUNT,
          accessKeyId: session.key,
          sessionContext: {
            sessionIssuer: { type: 'Role', principalId: session.role.id, arn: `arn:aws:iam::${ACCOUNT}:role/${session.role.name}`, accountId: ACCOUNT, userName: session.role.name },
            webIdFederationData: {},
            attributes: { creationDate: iso(session.created), mfaAuthenticated: 'false' },
          },
        };
        ip = session.ip;
        if (leaked) planted++;
      } else if (pick < 0.9) {
        const user = users[Math.floor(random() * users.length)]!;
        identity = { type: 'IAMUser', principalId: `AIDA${upper(random, 17)}`, arn: `arn:aws:iam::${ACCOUNT}:user/${user.name}`, accountId: ACCOUNT, accessKeyId: user.key, userName: user.name };
        ip = user.ip;
      } else {
        identity = { type: 'AWSService', invokedBy: 'cloudformation.amazonaws.com' };
        ip = 'cloudformation.amazonaws.com';
      }
      let eventName = name;
      let response: unknown = null;
      let request: unknown = { maxResults: 100, filterSet: {}, instancesSet: { items: [{ instanceId: `i-${hex(random, 17)}` }] } };
      if (leaked && planted === 1) {
        eventName = 'CreateAccessKey';
        request = { userName: 'backdoor' };
        response = { accessKey: { userName: 'backdoor', accessKeyId: MINTED_KEY, status: 'Active', createDate: iso(at) } };
      } else if (leaked && planted === 2) {
        eventName = 'StopLogging';
        request = { name: `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/org-trail` };
      }
      records.push({
        eventVersion: '1.09',
        userIdentity: identity,
        eventTime: iso(at),
        eventSource: eventName === 'CreateAccessKey' ? 'iam.amazonaws.com' : eventName === 'StopLogging' ? 'cloudtrail.amazonaws.com' : source,
        eventName,
        awsRegion: region,
        sourceIPAddress: ip,
        userAgent: leaked ? 'python-requests/2.31.0' : agents[Math.floor(random() * agents.length)],
        requestParameters: request,
        responseElements: response,
        requestID: uuid(random),
        eventID: uuid(random),
        readOnly: leaked ? false : readOnly,
        eventType: 'AwsApiCall',
        managementEvent: true,
        recipientAccountId: ACCOUNT,
        eventCategory: 'Management',
        tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `${source.split('.')[0]}.${region}.amazonaws.com` },
      });
    }
    // The minted key is used too, a little later, so the hunt must follow it.
    if (f === Math.floor(fileCount * 0.75)) {
      records.push({
        eventVersion: '1.09',
        userIdentity: { type: 'IAMUser', principalId: 'AIDABACKDOOR', arn: `arn:aws:iam::${ACCOUNT}:user/backdoor`, accountId: ACCOUNT, accessKeyId: MINTED_KEY, userName: 'backdoor' },
        eventTime: iso(delivered),
        eventSource: 's3.amazonaws.com',
        eventName: 'ListBuckets',
        awsRegion: region,
        sourceIPAddress: '203.0.113.66',
        userAgent: 'python-requests/2.31.0',
        requestParameters: null,
        responseElements: null,
        eventID: uuid(random),
        readOnly: true,
        eventType: 'AwsApiCall',
        recipientAccountId: ACCOUNT,
      });
    }
    const day = new Date(delivered).toISOString().slice(0, 10).split('-');
    const dir = join(options.out, 'AWSLogs', ACCOUNT, 'CloudTrail', region, ...day);
    mkdirSync(dir, { recursive: true });
    const stamp = new Date(delivered).toISOString().replace(/[-:]/g, '').slice(0, 13) + 'Z';
    const body = gzipSync(JSON.stringify({ Records: records }), { level: 6 });
    writeFileSync(join(dir, `${ACCOUNT}_CloudTrail_${region}_${stamp}_${hex(random, 16)}.json.gz`), body);
    files++;
    bytes += body.length;
    written += count;
  }
  return { files, events: written, bytes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '200000' }, out: { type: 'string', default: 'bench/out/corpus' }, seed: { type: 'string', default: '7' } } });
  const started = Date.now();
  const result = generate({ events: Number(values.events), out: values.out!, seed: Number(values.seed) });
  console.log(`generated ${result.events} events in ${result.files} files (${(result.bytes / 1e6).toFixed(1)} MB gzipped) at ${values.out} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
