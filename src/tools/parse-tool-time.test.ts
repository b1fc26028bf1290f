import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, parseToolTime, resolveTimeRange } from './parse-tool-time.js';

const now = new Date('2024-05-01T12:00:00Z');
const at = (value: string) => parseToolTime(value, now).toISOString();

describe('parseDuration', () => {
  it.each([
    ['1h', 3_600_000],
    ['2h45m', 9_900_000],
    ['1.5h', 5_400_000],
    ['90s', 90_000],
    ['7d', 604_800_000],
    ['250ms', 250],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['2000000ns', 2],
    ['1h30m15s', 5_415_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each(['', '1', 'h', '1y', '1h 30m', '-1h', '1hh'])('refuses %j and names the accepted units', (text) => {
    expect(() => parseDuration(text)).toThrow(/units ns, us, µs, ms, s, m, h, d/);
  });
});

describe('parseToolTime', () => {
  it('reads now and offsets from it', () => {
    expect(at('now')).toBe('2024-05-01T12:00:00.000Z');
    expect(at('now-1h')).toBe('2024-05-01T11:00:00.000Z');
    expect(at('now-2h45m')).toBe('2024-05-01T09:15:00.000Z');
    expect(at('now - 30m')).toBe('2024-05-01T11:30:00.000Z');
    expect(at('now+5m')).toBe('2024-05-01T12:05:00.000Z');
    expect(at('NOW-1d')).toBe('2024-04-30T12:00:00.000Z');
  });

  it('reads RFC3339 with offsets and fractions', () => {
    expect(at('2024-05-01T10:00:00Z')).toBe('2024-05-01T10:00:00.000Z');
    expect(at('2024-05-01T10:00:00.250Z')).toBe('2024-05-01T10:00:00.250Z');
    expect(at('2024-05-01T12:00:00+02:00')).toBe('2024-05-01T10:00:00.000Z');
    expect(at('2024-05-01t10:00:00z')).toBe('2024-05-01T10:00:00.000Z');
  });

  it('reads unix seconds and milliseconds', () => {
    expect(at('1714564800')).toBe('2024-05-01T12:00:00.000Z');
    expect(at('1714564800.5')).toBe('2024-05-01T12:00:00.500Z');
    expect(at('1714564800000')).toBe('2024-05-01T12:00:00.000Z');
  });

  it.each(['yesterday', '2024-05-01', '2024-13-01T00:00:00Z', 'now-', 'now-1x', '10:00'])('refuses %j with the formats it takes', (value) => {
    expect(() => parseToolTime(value, now)).toThrow(expect.objectContaining({ code: 'invalid_time', message: expect.stringContaining("'now-1h'") }));
  });
});

describe('resolveTimeRange', () => {
  it('defaults to the lookback before now', () => {
    const range = resolveTimeRange(undefined, undefined, now, 3_600_000);
    expect(range.start.toISOString()).toBe('2024-05-01T11:00:00.000Z');
    expect(range.end.toISOString()).toBe('2024-05-01T12:00:00.000Z');
  });

  it('counts the default start back from a given end', () => {
    expect(resolveTimeRange(undefined, 'now-1h', now, 3_600_000).start.toISOString()).toBe('2024-05-01T10:00:00.000Z');
  });

  it('refuses a start that is not before the end', () => {
    expect(() => resolveTimeRange('now', 'now-1h', now, 3_600_000)).toThrow(/is not before the end/);
  });
});

describe('formatDuration', () => {
  it.each([
    [500, '500ms'],
    [45_000, '45s'],
    [3_600_000, '1h'],
    [5_400_000, '1h30m'],
    [90_061_000, '1d1h'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
