import { InvalidArgumentError } from '../domain/errors.js';

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

// Longer units first, so that "ms" is not read as "m" followed by "s".
const DURATION_PART = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)/y;
const RFC3339 = /^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)$/;

export const TIME_FORMAT_HINT = "use RFC3339 (2024-05-01T10:00:00Z) or a time relative to now: 'now', 'now-1h', 'now-2h45m', 'now-1.5h' (units ns, us, µs, ms, s, m, h, d)";

/** A Go-style duration with days: `1h`, `2h45m`, `1.5h`, `90s`, `7d`. Returns milliseconds. */
export function parseDuration(text: string): number {
  let total = 0;
  let at = 0;
  while (at < text.length) {
    DURATION_PART.lastIndex = at;
    const part = DURATION_PART.exec(text);
    if (!part) throw new InvalidArgumentError('invalid_time', `cannot read the duration "${text}": ${TIME_FORMAT_HINT}`);
    total += Number(part[1]) * UNIT_MS[part[2]!]!;
    at = DURATION_PART.lastIndex;
  }
  if (text.length === 0) throw new InvalidArgumentError('invalid_time', `empty duration: ${TIME_FORMAT_HINT}`);
  return total;
}

/**
 * A time argument as mcp-grafana reads it: RFC3339, or `now` with an optional `-`/`+` duration.
 * Bare numbers are unix seconds, or milliseconds when too large to be seconds.
 */
export function parseToolTime(value: string, now: Date): Date {
  const text = value.trim();
  const relative = /^now(?:\s*([-+])\s*(.+))?$/i.exec(text);
  if (relative) {
    if (!relative[1]) return new Date(now.getTime());
    const offset = parseDuration(relative[2]!.trim());
    return new Date(now.getTime() + (relative[1] === '-' ? -offset : offset));
  }
  if (/^\d+(?:\.\d+)?$/.test(text)) {
    const number = Number(text);
    return new Date(number < 1e11 ? number * 1000 : number);
  }
  if (RFC3339.test(text)) {
    const parsed = Date.parse(text.replace(/^(\S+)[t ]/, '$1T').toUpperCase());
    if (!Number.isNaN(parsed)) return new Date(parsed);
  }
  throw new InvalidArgumentError('invalid_time', `cannot read the time "${value}": ${TIME_FORMAT_HINT}`);
}

/**
 * A window from optional start and end arguments: end defaults to now, start to `defaultLookbackMs`
 * before end. A start after the end is refused rather than swapped: the model likely meant something else.
 */
export function resolveTimeRange(start: string | undefined, end: string | undefined, now: Date, defaultLookbackMs: number): { start: Date; end: Date } {
  const to = end ? parseToolTime(end, now) : new Date(now.getTime());
  const from = start ? parseToolTime(start, now) : new Date(to.getTime() - defaultLookbackMs);
  if (from.getTime() >= to.getTime()) {
    throw new InvalidArgumentError('invalid_time', `the start ${from.toISOString()} is not before the end ${to.toISOString()}; give an earlier start (e.g. 'now-1h') or a later end`);
  }
  return { start: from, end: to };
}

/** `90m` → `1h30m`: at most two units, for one-line summaries. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const units: [string, number][] = [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]];
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    } else if (parts.length > 0) {
      break;
    }
  }
  return parts.join('');
}
