import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findAssignments, findJwts, KNOWN_DETECTORS } from '../../src/scan/detectors.js';
import { scanText } from '../../src/scan/index.js';

/**
 * Log lines are attacker text: a compromised step prints whatever it likes, and the scan runs
 * before the workflow is disabled. A backtracking regex turned a 9 KB line of `secret` words into
 * a 48 s stall of the whole process; these lines are the shapes that made the old patterns
 * quadratic or worse. Each is 100 KB; a linear scan reads one in well under a second, while the
 * old generic pattern needed 161 s for a tenth of that (measured on the machine this was written
 * on). The bound is generous on purpose: it catches super-linear time, not slow machines.
 */
const ADVERSARIAL: Record<string, string> = {
  'secret words, no separator': 'secret'.repeat(16_667),
  'secret names, separator at the end': `${'secret_'.repeat(14_285)}:`,
  'token= with low-entropy values': 'token='.repeat(16_667),
  'auth: with one-letter values': 'auth:a'.repeat(16_667),
  'JWT starts without dots': 'eyJ-'.repeat(25_000),
  'JWT headers without payloads': 'eyJaaaaaaaaaa.eyJ'.repeat(5_882),
  'PEM begins without an end': '-----BEGIN PRIVATE KEY-----'.repeat(3_703),
  'runner entries never closed': '"value":"'.repeat(11_111),
  'quotes only': '"'.repeat(100_000),
  'AWS secret context with base64': `aws_secret ${'A1b'.repeat(33_333)}`,
  'slack prefixes': 'xoxb-'.repeat(20_000),
  'OpenAI prefixes without the marker': 'sk-'.repeat(33_334),
  'PyPI prefixes': 'pypi-AgEIcHlwaS5vcmc-'.repeat(4_762),
  'SAS signatures on a SAS line': `?sv=2022-11-02${'&sig='.repeat(20_000)}`,
};

const LIMIT_MS = 3_000;

describe('the log scanner on adversarial lines', () => {
  it.each(Object.entries(ADVERSARIAL))('scans 100 KB of %s in bounded time', (_name, line) => {
    // Given a 100 KB line crafted against backtracking
    expect(line.length).toBeGreaterThan(97_000);
    // When it is scanned (twice as long a line must not take four times as long either)
    const started = performance.now();
    scanText(line, { source: 'job.txt' });
    const elapsed = performance.now() - started;
    // Then it finishes in bounded time
    expect(elapsed, `${elapsed.toFixed(0)} ms`).toBeLessThan(LIMIT_MS);
  });
});

/** The patterns the hand scans replace, kept here as the specification they must agree with. */
const GENERIC_ASSIGNMENT_SPEC =
  /([A-Za-z0-9_.-]*(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|auth)[A-Za-z0-9_.-]*)["']?\s*[:=]\s*["']?([A-Za-z0-9_\-+/=.~!@#$%^&*]{12,512})/gi;
const JWT_SPEC = /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g;

/** Short lines built from the pieces these patterns care about, so matches are frequent. */
const pieces = (parts: string[]) => fc.array(fc.constantFrom(...parts), { maxLength: 40 }).map((chosen) => chosen.join(''));
const assignmentLine = pieces(['secret', 'TOKEN', 'api-key', 'x', '_', '.', '-', '=', ':', ' ', '"', "'", 'Ab9/+', 'zzzzzzzzzzzz', 'Q', '\t', '\u00a0', ',', '***']);
const jwtLine = pieces(['eyJ', 'abcdefgh', 'A', '.', '-', '_', ' ', 'x', '/', 'eyJhbGciOiJIUzI1NiJ9']);

describe('hand scans agree with the patterns they replace', () => {
  it('findAssignments finds what the generic assignment regex finds', () => {
    fc.assert(
      fc.property(assignmentLine, (line) => {
        const expected = [...line.matchAll(GENERIC_ASSIGNMENT_SPEC)].map((m) => ({ index: m.index + m[0].length - m[2]!.length, value: m[2]!, name: m[1]!.slice(-256) }));
        expect([...findAssignments(line)]).toEqual(expected);
      }),
      { numRuns: 2_000 },
    );
  });

  it('findJwts finds what the JWT regex finds', () => {
    fc.assert(
      fc.property(jwtLine, (line) => {
        const expected = [...line.matchAll(JWT_SPEC)].map((m) => ({ index: m.index, value: m[0] }));
        expect([...findJwts(line)]).toEqual(expected);
      }),
      { numRuns: 2_000 },
    );
  });

  it('every known detector finds a planted value inside other text', () => {
    // Given each detector's own finder and a value of its format between spaces
    const samples = ['github_pat_11ABCDEFG0123456789abcdefghij', `ghp_${'a1B2'.repeat(9)}`, `npm_${'Z9y8'.repeat(9)}`, 'AKIAHBRPOIGF3EXAMPLE', 'xoxb-1234567890-abcdef', `AIza${'x'.repeat(35)}`, `sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'}`, 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXZhbHVl'];
    for (const value of samples) {
      const found = KNOWN_DETECTORS.flatMap((detector) => [...detector.find(`x ${value} y`)].map((match) => match.value));
      // Then some detector finds exactly the value
      expect(found, value).toContain(value);
    }
  });
});
