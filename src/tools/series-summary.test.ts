import { describe, expect, it } from 'vitest';
import type { RangeSeries } from './prometheus-api.js';
import { classifyTrend, formatLabels, formatNumber, formatSeriesSummary, summariseSeries } from './series-summary.js';

const START = 1_714_564_800; // 2024-05-01T12:00:00Z

/** One sample a minute from START. */
function series(values: (number | string)[], metric: Record<string, string> = { instance: 'web1', job: 'node' }): RangeSeries {
  return { metric, values: values.map((v, i): [number, string] => [START + i * 60, String(v)]) };
}

function trendOf(values: number[]): string {
  return classifyTrend(values.map((v, i) => ({ t: i * 60, v })));
}

// Deterministic noise in [-1, 1].
function noise(i: number): number {
  const x = Math.sin(i * 12.9898) * 43758.5453;
  return (x - Math.floor(x)) * 2 - 1;
}

const ramp = (n: number, from: number, to: number) => Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));

describe('classifyTrend', () => {
  it('calls a steady climb rising and a steady fall falling', () => {
    expect(trendOf(ramp(61, 0.21, 0.98))).toBe('rising');
    expect(trendOf(ramp(61, 100, 3))).toBe('falling');
  });

  it('calls a noisy climb rising', () => {
    expect(trendOf(ramp(61, 0, 1).map((v, i) => v + 0.3 * noise(i)))).toBe('rising');
  });

  it('calls a late step up rising: what has just started matters most in an incident', () => {
    expect(trendOf([...Array(54).fill(0.1), ...Array(7).fill(0.9)])).toBe('rising');
  });

  it('calls a constant flat, and jitter of a few percent flat', () => {
    expect(trendOf(Array(61).fill(5))).toBe('flat');
    expect(trendOf(Array.from({ length: 61 }, (_, i) => 0.5 + 0.02 * noise(i)))).toBe('flat');
    expect(trendOf(Array.from({ length: 61 }, (_, i) => 1000 + 2 * noise(i)))).toBe('flat');
  });

  it('calls a small but clean climb rising, as a slow leak is', () => {
    expect(trendOf(ramp(61, 80, 87))).toBe('rising');
  });

  it('calls a spike in the middle and an oscillation volatile', () => {
    expect(trendOf([...Array(30).fill(1), 50, 60, ...Array(29).fill(1)])).toBe('volatile');
    expect(trendOf(Array.from({ length: 61 }, (_, i) => 10 + 8 * Math.sin(i / 2)))).toBe('volatile');
  });

  it('works on values near zero, where relative thresholds could divide by nothing', () => {
    expect(trendOf(ramp(61, 0, 0.001))).toBe('rising');
    expect(trendOf(Array(61).fill(0))).toBe('flat');
    expect(trendOf(ramp(61, -1, 1))).toBe('rising');
  });

  it('handles one and two points', () => {
    expect(trendOf([3])).toBe('flat');
    expect(trendOf([1, 2])).toBe('rising');
    expect(trendOf([2, 1])).toBe('falling');
    expect(trendOf([])).toBe('flat');
  });
});

describe('summariseSeries', () => {
  it('summarises a rising series', () => {
    const summary = summariseSeries(series(ramp(61, 0.21, 0.98)));
    expect(summary).toMatchObject({ points: 61, first: 0.21, min: 0.21, trend: 'rising', from: '2024-05-01T12:00:00.000Z', to: '2024-05-01T13:00:00.000Z' });
    expect(summary.last).toBeCloseTo(0.98);
    expect(summary.max).toBeCloseTo(0.98);
    expect(summary.mean).toBeCloseTo(0.595);
    expect(summary.changePercent).toBeCloseTo(366.67, 1);
  });

  it('keeps NaN and Inf out of min, max, mean and trend, but shows them as first and last', () => {
    const summary = summariseSeries(series(['NaN', 1, 2, 3, '+Inf']));
    expect(summary).toMatchObject({ points: 5, min: 1, max: 3, mean: 2, trend: 'rising', changePercent: 200 });
    expect(summary.first).toBeNaN();
    expect(summary.last).toBe(Infinity);
  });

  it('gives NaN statistics and no change for a series with no finite value', () => {
    const summary = summariseSeries(series(['NaN', '-Inf']));
    expect(summary.min).toBeNaN();
    expect(summary.mean).toBeNaN();
    expect(summary).toMatchObject({ trend: 'flat', changePercent: null });
  });

  it('has no change percent from a zero start', () => {
    expect(summariseSeries(series([0, 5, 10])).changePercent).toBeNull();
  });

  it('summarises a single point', () => {
    expect(summariseSeries(series([7]))).toMatchObject({ points: 1, first: 7, last: 7, min: 7, max: 7, mean: 7, trend: 'flat', changePercent: 0 });
  });
});

describe('formatSeriesSummary', () => {
  it('fits a series on one line', () => {
    const line = formatSeriesSummary(summariseSeries(series(ramp(61, 0.21, 0.98))));
    expect(line).toBe('{instance="web1",job="node"} last=0.98 min=0.21 max=0.98 mean=0.595 trend=rising (+367% over 1h, 61 points)');
  });

  it('puts the metric name in front and shows special values as Prometheus spells them', () => {
    const line = formatSeriesSummary(summariseSeries(series(['NaN', 1, 1, '+Inf'], { __name__: 'errors_ratio', job: 'api' })));
    expect(line).toBe('errors_ratio{job="api"} last=+Inf min=1 max=1 mean=1 first=NaN trend=flat (+0% over 3m, 4 points)');
  });

  it('writes a single point as a value and a time', () => {
    expect(formatSeriesSummary(summariseSeries(series([42], {})))).toBe('{} value=42 at 2024-05-01T12:00:00.000Z (1 point)');
  });

  it('leaves out the change when there is none to compute', () => {
    expect(formatSeriesSummary(summariseSeries(series([0, 1, 2], {})))).toBe('{} last=2 min=0 max=2 mean=1 trend=rising (over 2m, 3 points)');
  });

  it('says constant for a series that never moved', () => {
    expect(formatSeriesSummary(summariseSeries(series([0.13, 0.13, 0.13], {})))).toBe('{} last=0.13 constant (over 2m, 3 points)');
  });
});

describe('formatNumber and formatLabels', () => {
  it('keeps four significant digits and switches to exponents at the extremes', () => {
    expect(formatNumber(0.123456)).toBe('0.1235');
    expect(formatNumber(123456.7)).toBe('123500');
    expect(formatNumber(1.5e12)).toBe('1.5e+12');
    expect(formatNumber(0.0000123)).toBe('1.23e-5');
    expect(formatNumber(-Infinity)).toBe('-Inf');
  });

  it('sorts labels and escapes values', () => {
    expect(formatLabels({ b: '2', a: 'say "hi"\n' })).toBe('{a="say \\"hi\\"\\n",b="2"}');
  });
});
