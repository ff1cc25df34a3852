import type { DrillResult } from './index.js';

const escapeXml = (text: string) =>
  text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/**
 * JUnit XML for CI: one testsuite per drill, one testcase per criterion and per after-containment
 * attacker step; a failed one carries its reason as the failure message.
 */
export function drillJunit(result: DrillResult): string {
  const cases = [
    ...result.criteria.map((c) => ({ name: c.id, classname: `drill.${result.scenario}`, passed: c.passed, message: c.reason })),
    ...result.attacks.map((a) => ({
      name: `after-containment[${a.step}] ${a.call} with ${a.credential}`,
      classname: `drill.${result.scenario}.attacker`,
      passed: a.passed,
      message: a.detail,
    })),
  ];
  const failures = cases.filter((c) => !c.passed).length;
  const seconds = (result.durationMs / 1000).toFixed(3);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="cicd-ir drill" tests="${cases.length}" failures="${failures}" time="${seconds}">`,
    `  <testsuite name="drill.${escapeXml(result.scenario)}" tests="${cases.length}" failures="${failures}" errors="0" time="${seconds}">`,
  ];
  for (const c of cases) {
    const head = `    <testcase name="${escapeXml(c.name)}" classname="${escapeXml(c.classname)}"`;
    if (c.passed) lines.push(`${head}>`, `      <system-out>${escapeXml(c.message)}</system-out>`, '    </testcase>');
    else lines.push(`${head}>`, `      <failure message="${escapeXml(c.message)}" type="drill"/>`, '    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
