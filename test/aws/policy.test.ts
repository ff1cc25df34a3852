import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { actionCovers, globAdmitsPrefix, globMatch, parsePolicyDocument, policySize, samePolicy } from '../../src/aws/policy.js';
import { lineDiff } from '../../src/aws/diff.js';
import { parseDuration } from '../../src/aws/duration.js';

describe('policy documents', () => {
  it('parses URL-encoded documents (as IAM returns them) and plain JSON', () => {
    // Given the same document in both forms / When parsed / Then equal
    const document = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/100%' }] };
    expect(parsePolicyDocument(encodeURIComponent(JSON.stringify(document)))).toEqual(document);
    expect(parsePolicyDocument(JSON.stringify(document, null, 2))).toEqual(document);
    expect(() => parsePolicyDocument('{"no":"statement"}')).toThrow(/Statement/);
  });

  it('counts size like IAM: whitespace is free', () => {
    const document = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] };
    expect(policySize(JSON.stringify(document, null, 8))).toBe(policySize(document));
    expect(policySize('{ "a" : 1 }')).toBe('{"a":1}'.length);
  });

  it('compares documents regardless of key order and formatting', () => {
    expect(samePolicy({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'a' }] }, { Statement: [{ Action: 'a', Effect: 'Allow' }], Version: '1' })).toBe(true);
    expect(samePolicy({ Statement: [{ Effect: 'Allow' }] }, { Statement: [{ Effect: 'Deny' }] })).toBe(false);
  });

  it('matches IAM wildcards', () => {
    expect(globMatch('repo:acme/*', 'repo:acme/app:ref:refs/heads/main')).toBe(true);
    expect(globMatch('repo:acme/app:ref:refs/heads/ma?n', 'repo:acme/app:ref:refs/heads/main')).toBe(true);
    expect(globMatch('repo:acme/app', 'repo:acme/app:x')).toBe(false);
    expect(globMatch('*', '')).toBe(true);
    expect(globMatch('a*b*c', 'axxbyyc')).toBe(true);
    expect(globMatch('a*b*c', 'axxbyy')).toBe(false);
    expect(actionCovers(['sts:*'], 'sts:AssumeRoleWithWebIdentity')).toBe(true);
    expect(actionCovers('STS:AssumeRole*', 'sts:AssumeRoleWithWebIdentity')).toBe(true);
    expect(actionCovers('iam:*', 'sts:AssumeRole')).toBe(false);
  });

  it('a pattern admits a prefix exactly when some matching value starts with it (property)', () => {
    const alphabet = fc.constantFrom('a', 'b', ':', '/');
    const text = fc.array(alphabet, { maxLength: 8 }).map((chars) => chars.join(''));
    const pattern = fc.array(fc.constantFrom('a', 'b', ':', '/', '*', '?'), { maxLength: 6 }).map((chars) => chars.join(''));
    fc.assert(
      fc.property(pattern, text, text, (p, prefix, rest) => {
        // Soundness: if prefix+rest matches, the prefix is admitted.
        if (globMatch(p, prefix + rest)) expect(globAdmitsPrefix(p, prefix)).toBe(true);
        // Completeness: if the prefix is admitted, filling every remaining token yields a match.
        if (globAdmitsPrefix(p, prefix)) {
          const witnessExists = [...Array(p.length + 1).keys()].some((cut) => globMatch(p, prefix + p.slice(cut).replace(/[*?]/g, (c) => (c === '?' ? 'a' : ''))));
          expect(witnessExists).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('lineDiff', () => {
  it('marks removed and added lines and keeps the rest', () => {
    expect(lineDiff('a\nb\nc', 'a\nc\nd')).toEqual(['  a', '- b', '  c', '+ d']);
    expect(lineDiff('same', 'same')).toEqual(['  same']);
  });
});

describe('parseDuration', () => {
  it('reads milliseconds and unit text', () => {
    expect(parseDuration(1500)).toBe(1500);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(() => parseDuration('soon')).toThrow(/duration/);
  });
});
