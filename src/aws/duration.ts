/**
 * Durations in a step's `with:`: a number of milliseconds (what a playbook input of type
 * `duration` evaluates to) or text like `90s`, `5m`, `1h30m`, `500ms`.
 */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`not a duration: ${value}`);
    return value;
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^(\d+(ms|s|m|h|d))+$/.test(text)) throw new Error(`not a duration: "${value}" (use e.g. 30s, 5m, 1h30m)`);
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  for (const match of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(match[1]) * units[match[2]!]!;
  return total;
}

/** Whether a value parses as a duration (for zod refinements). */
export function isDuration(value: number | string): boolean {
  try {
    parseDuration(value);
    return true;
  } catch {
    return false;
  }
}
