import { formatDuration } from './parse-tool-time.js';
import type { RangeSeries } from './prometheus-api.js';

export type Trend = 'rising' | 'falling' | 'flat' | 'volatile';

export interface SeriesSummary {
  labels: Record<string, string>;
  points: number;
  /** The first and last samples as Prometheus gave them, NaN and ±Inf included. */
  first: number;
  last: number;
  /** min, max and mean over the finite samples; NaN when there are none. */
  min: number;
  max: number;
  mean: number;
  trend: Trend;
  /** Last finite sample against the first, in percent; null when the first is zero or nothing is finite. */
  changePercent: number | null;
  from: string;
  to: string;
}

// Movement below this share of the magnitude is noise whatever its shape.
const NEGLIGIBLE_RANGE = 0.01;
// Below this share, movement counts only when it is a clean line (a slow leak), not jitter.
const SMALL_RANGE = 0.1;
// The fitted line must cover this share of the min–max range to call a direction.
const DIRECTIONAL_CHANGE = 0.3;
const CLEAN_FIT = 0.5;

/** Prometheus writes special values as text. */
export function parseSampleValue(value: string): number {
  switch (value) {
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    default:
      return Number(value);
  }
}

function leastSquares(points: readonly { t: number; v: number }[]): { slope: number; r2: number } {
  const n = points.length;
  const meanT = points.reduce((sum, p) => sum + p.t, 0) / n;
  const meanV = points.reduce((sum, p) => sum + p.v, 0) / n;
  let covariance = 0;
  let varianceT = 0;
  let varianceV = 0;
  for (const { t, v } of points) {
    covariance += (t - meanT) * (v - meanV);
    varianceT += (t - meanT) ** 2;
    varianceV += (v - meanV) ** 2;
  }
  if (varianceT === 0 || varianceV === 0) return { slope: 0, r2: 0 };
  return { slope: covariance / varianceT, r2: (covariance * covariance) / (varianceT * varianceV) };
}

/**
 * Direction from a least-squares line, judged against the series' own min–max range so that the units do
 * not matter: a line that climbs at least 30 % of the range is rising; big swings without such a line are
 * volatile (spikes, oscillation); small movement is flat unless it is a clean line, as a slow leak is.
 */
export function classifyTrend(points: readonly { t: number; v: number }[]): Trend {
  if (points.length < 2) return 'flat';
  let min = Infinity;
  let max = -Infinity;
  for (const { v } of points) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const range = max - min;
  const scale = Math.max(Math.abs(min), Math.abs(max));
  if (range === 0 || range <= NEGLIGIBLE_RANGE * scale) return 'flat';
  const direction = (delta: number): Trend => (delta > 0 ? 'rising' : 'falling');
  if (points.length === 2) return direction(points[1]!.v - points[0]!.v);

  const { slope, r2 } = leastSquares(points);
  const fittedChange = (slope * (points[points.length - 1]!.t - points[0]!.t)) / range;
  const directional = Math.abs(fittedChange) >= DIRECTIONAL_CHANGE;
  if (range <= SMALL_RANGE * scale) return directional && r2 >= CLEAN_FIT ? direction(fittedChange) : 'flat';
  return directional ? direction(fittedChange) : 'volatile';
}

export function summariseSeries(series: RangeSeries): SeriesSummary {
  const samples = series.values.map(([t, v]) => ({ t, v: parseSampleValue(v) }));
  const finite = samples.filter((s) => Number.isFinite(s.v));
  const values = finite.map((s) => s.v);
  const firstFinite = finite[0]?.v;
  const lastFinite = finite[finite.length - 1]?.v;
  const sum = values.reduce((total, v) => total + v, 0);
  return {
    labels: series.metric,
    points: samples.length,
    first: samples[0]?.v ?? NaN,
    last: samples[samples.length - 1]?.v ?? NaN,
    min: values.length > 0 ? values.reduce((a, b) => Math.min(a, b)) : NaN,
    max: values.length > 0 ? values.reduce((a, b) => Math.max(a, b)) : NaN,
    mean: values.length > 0 ? sum / values.length : NaN,
    trend: classifyTrend(finite),
    changePercent: firstFinite === undefined || lastFinite === undefined || firstFinite === 0 ? null : ((lastFinite - firstFinite) / Math.abs(firstFinite)) * 100,
    from: samples.length > 0 ? new Date(samples[0]!.t * 1000).toISOString() : '',
    to: samples.length > 0 ? new Date(samples[samples.length - 1]!.t * 1000).toISOString() : '',
  };
}

/** Four significant digits, Prometheus' spelling for special values. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (value !== 0 && (Math.abs(value) >= 1e9 || Math.abs(value) < 1e-4)) return value.toExponential(3).replace(/\.?0+e/, 'e');
  return String(Number(value.toPrecision(4)));
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** `name{a="1",b="2"}` with labels sorted, the way PromQL prints a series. */
export function formatLabels(labels: Record<string, string>): string {
  const { __name__: name, ...rest } = labels;
  const inner = Object.keys(rest)
    .sort()
    .map((key) => `${key}="${escapeLabelValue(rest[key]!)}"`)
    .join(',');
  return `${name ?? ''}{${inner}}`;
}

function formatPercent(percent: number): string {
  const rounded = Math.abs(percent) >= 10 ? Math.round(percent) : Number(percent.toFixed(1));
  return `${rounded >= 0 ? '+' : ''}${rounded}%`;
}

/** One line per series, e.g. `{instance="web1"} last=0.98 min=0.21 max=0.98 mean=0.6 trend=rising (+366% over 1h, 61 points)`. */
export function formatSeriesSummary(summary: SeriesSummary): string {
  const labels = formatLabels(summary.labels);
  if (summary.points === 0) return `${labels} no samples`;
  if (summary.points === 1) return `${labels} value=${formatNumber(summary.last)} at ${summary.to} (1 point)`;
  const span = formatDuration(Date.parse(summary.to) - Date.parse(summary.from));
  if (summary.min === summary.max && summary.first === summary.min && summary.last === summary.min) {
    return `${labels} last=${formatNumber(summary.last)} constant (over ${span}, ${summary.points} points)`;
  }
  const change = summary.changePercent === null ? '' : `${formatPercent(summary.changePercent)} `;
  const stats = `last=${formatNumber(summary.last)} min=${formatNumber(summary.min)} max=${formatNumber(summary.max)} mean=${formatNumber(summary.mean)}`;
  const first = Number.isFinite(summary.first) ? '' : ` first=${formatNumber(summary.first)}`;
  return `${labels} ${stats}${first} trend=${summary.trend} (${change}over ${span}, ${summary.points} points)`;
}
