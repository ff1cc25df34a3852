/** Levenshtein distance, O(a*b) on two short names (flags, command ids): both capped at 64 characters. */
function distance(a: string, b: string): number {
  const x = a.slice(0, 64).toLowerCase();
  const y = b.slice(0, 64).toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[y.length]!;
}

/**
 * The candidate closest to a misspelt name (`dryrun` -> `dry-run`, `contian` -> `contain`), or
 * undefined when none is close: a typo or two, and less than half the name.
 */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance > 0 && bestDistance <= Math.max(2, Math.floor(name.length / 3)) && bestDistance * 2 < name.length ? best : undefined;
}
