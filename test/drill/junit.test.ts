import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { drillJunit } from '../../src/drill/junit.js';
import type { DrillResult } from '../../src/drill/index.js';

/** Parses XML with Python's standard library (a real parser, not a regex) and returns the test cases. */
function parseJunit(xml: string): Array<{ name: string; failure?: string }> {
  const script = `
import json, sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
cases = [{"name": c.get("name"), **({"failure": c.find("failure").get("message")} if c.find("failure") is not None else {})} for c in root.iter("testcase")]
print(json.dumps({"suites": root.tag, "cases": cases}))`;
  const run = spawnSync('python3', ['-c', script], { input: xml, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`XML did not parse: ${run.stderr}`);
  const parsed = JSON.parse(run.stdout) as { suites: string; cases: Array<{ name: string; failure?: string }> };
  expect(parsed.suites).toBe('testsuites');
  return parsed.cases;
}

const result: DrillResult = {
  scenario: 'demo',
  faults: 'none',
  passed: false,
  exitCode: 1,
  runId: 'r1',
  runDir: '/tmp/r1',
  reports: [],
  containExitCode: 3,
  criteria: [
    { id: 'time-to-contain', passed: true, reason: 'contained in 3 s (SLO 1 min)' },
    { id: 'credentials-closed', passed: true, reason: '4/5 closed' },
    { id: 'no-attacker-success', passed: false, reason: 'after-containment step 9 s3:ListBuckets with <session> & "friends": success' },
    { id: 'no-secret-leaked', passed: true, reason: 'none found' },
  ],
  attacks: [
    { step: 9, call: 's3:ListBuckets', credential: 'deploy-run-1', outcome: 'success', expected: 'denied', passed: false, detail: 'the attacker still succeeds' },
    { step: 10, call: 'sts:GetCallerIdentity', credential: 'AKIAXXXXXXXXXXXXXXXX', outcome: 'denied', expected: 'denied', passed: true, detail: 'denied' },
  ],
  huntFindings: [],
  durationMs: 1234,
};

describe('drillJunit', () => {
  it('writes one testcase per criterion and per attacker step, failures with their reason', () => {
    // Given a drill result with one failed criterion and one failed attacker step (with XML metacharacters)
    // When it is written as JUnit and parsed back by a real XML parser
    const cases = parseJunit(drillJunit(result));
    // Then every criterion and step is a testcase, and the failures carry their messages intact
    expect(cases.map((c) => c.name)).toEqual([
      'time-to-contain',
      'credentials-closed',
      'no-attacker-success',
      'no-secret-leaked',
      'after-containment[9] s3:ListBuckets with deploy-run-1',
      'after-containment[10] sts:GetCallerIdentity with AKIAXXXXXXXXXXXXXXXX',
    ]);
    expect(cases.filter((c) => c.failure).map((c) => [c.name, c.failure])).toEqual([
      ['no-attacker-success', 'after-containment step 9 s3:ListBuckets with <session> & "friends": success'],
      ['after-containment[9] s3:ListBuckets with deploy-run-1', 'the attacker still succeeds'],
    ]);
  });
});
