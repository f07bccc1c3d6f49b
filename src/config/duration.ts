const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses `500ms`, `20s`, `15m`, `1h`, `1m30s` or `0` into milliseconds; `undefined` when
 * the text is not a duration. Bare numbers other than 0 are refused: `20` is ambiguous.
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  if (s.length === 0 || s.length > 32) return undefined;
  let total = 0;
  let i = 0;
  while (i < s.length) {
    const start = i;
    while (i < s.length && ((s[i]! >= '0' && s[i]! <= '9') || s[i] === '.')) i++;
    if (i === start) return undefined;
    const value = Number(s.slice(start, i));
    const unitStart = i;
    while (i < s.length && s[i]! >= 'a' && s[i]! <= 'z') i++;
    const unit = UNITS[s.slice(unitStart, i)];
    if (unit === undefined || !Number.isFinite(value)) return undefined;
    total += value * unit;
  }
  return Math.round(total);
}

/** Formats milliseconds the way a user would write them: `620s`, `15m`, `500ms`, `0`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
