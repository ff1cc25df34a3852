/** Small text helpers the builder and every renderer share. */

/** `320000` -> `5 min 20 s`; `3765000` -> `1 h 2 min 45 s`; `0` -> `0 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return ms <= 0 ? '0 s' : `${ms} ms`;
  let s = Math.round(ms / 1000);
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts: string[] = [];
  if (d) parts.push(`${d} d`);
  if (h) parts.push(`${h} h`);
  if (m) parts.push(`${m} min`);
  // Seconds stop mattering once a window is days long.
  if (s && !d) parts.push(`${s} s`);
  return parts.join(' ') || '0 s';
}

/** `2025-03-14T16:05:20.000Z` -> `2025-03-14 16:05:20Z` (readable, still unambiguous UTC). */
export function shortTime(iso: string | undefined): string {
  if (!iso) return '—';
  return iso.replace('T', ' ').replace(/\.000Z$/, 'Z').replace(/(\.\d{3})Z$/, '$1Z');
}

/** Only http(s) links become links: an evidence URL from an API must not turn into `javascript:`. */
export function safeUrl(url: string | undefined): string | undefined {
  return url && /^https?:\/\/[^\s"'<>]+$/.test(url) ? url : undefined;
}
