import type { AgentConfig } from '../config/config.schema.js';
import type { EvidenceItem } from '../domain/proposal.js';
import type { Incident } from '../domain/incident-record.js';
import type { LokiApi, LokiStream } from '../tools/loki-api.js';
import type { PrometheusAlert, PrometheusApi, RangeSeries } from '../tools/prometheus-api.js';
import { formatAlert } from '../tools/alerting-tools.js';
import { formatSeriesSummary, summariseSeries } from '../tools/series-summary.js';
import type { ContextSection } from '../domain/investigation.js';

export interface ContextPack {
  sections: ContextSection[];
  /** The same facts as evidence items for the incident record and the no-LLM proposal. */
  evidence: EvidenceItem[];
}

export interface ContextPackDeps {
  prometheus: PrometheusApi | null;
  loki: LokiApi | null;
  settings: AgentConfig['context'];
  now?: Date;
}

const MAX_SERIES = 10;
const MAX_RELATED_ALERTS = 15;
const ERROR_LINE_LIMIT = 2000;
const TOP_ERROR_LINES = 5;
/** The newest lines of every level, for what is loud but not an error (an access log, a WARN). */
const SAMPLE_LINE_LIMIT = 500;
const TOP_OTHER_LINES = 3;
const MAX_SIGNAL_METRICS = 4;
const MAX_SIGNAL_SERIES = 6;
const MAX_LINE_CHARS = 300;
const CHANGE_LIMIT = 10;
/** An alert may name its change events itself: a LogQL query in this annotation. */
export const CHANGE_QUERY_ANNOTATION = 'change_query';

/** `rate(x[5m]) > 0.9` → the left side and the threshold, so the hour shows the value, not just "true". */
export function splitThreshold(expression: string): { expression: string; threshold: string | null } {
  const found = /^(.*\S)\s*(>=|<=|==|!=|>|<)\s*(?:bool\s+)?(-?[0-9.]+(?:e[+-]?\d+)?)\s*$/is.exec(expression.trim());
  if (!found) return { expression: expression.trim(), threshold: null };
  return { expression: found[1]!, threshold: `${found[2]} ${found[3]}` };
}

function labelText(labels: Record<string, string>): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`;
}

const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;

/**
 * Lines differing only in numbers, ids or timestamps are the same line. An IPv4 address is kept: which
 * client it is tells lines apart (the attacker from everyone else).
 */
export function lineShape(line: string): string {
  const addresses: string[] = [];
  // The markers below are a private-use character; a line carrying its own must not shift the addresses restored.
  return line
    .replaceAll('\uE000', '')
    .replace(IPV4, (address) => `\uE000${addresses.push(address) - 1}\uE000`)
    .replace(/\b\d{4}-\d{2}-\d{2}[T ][\d:.]+Z?\b/g, '<time>')
    .replace(/\b[0-9a-f]{8,}\b/gi, '<id>')
    .replace(/\d+/g, '<n>')
    .replace(/\uE000<n>\uE000/g, () => addresses.shift() ?? '')
    .trim();
}

function escapeLogQl(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

function alertSection(incident: Incident): ContextSection {
  const text = [
    `name: ${incident.alertName}`,
    `severity: ${incident.severity}`,
    // alertname is the name above.
    `labels: ${labelText(Object.fromEntries(Object.entries(incident.labels).filter(([name]) => name !== 'alertname')))}`,
    ...Object.entries(incident.annotations).map(([k, v]) => `annotation ${k}: ${v}`),
    `rule expression: ${incident.expression ?? '(none given)'}`,
  ].join('\n');
  return { title: 'The alert', source: 'alert', text, rawBytes: Buffer.byteLength(text) };
}

async function expressionSection(incident: Incident, prometheus: PrometheusApi, lookbackMinutes: number, now: Date): Promise<ContextSection | null> {
  if (!incident.expression) return null;
  const { expression, threshold } = splitThreshold(incident.expression);
  const start = new Date(now.getTime() - lookbackMinutes * 60_000);
  const stepSeconds = Math.max(1, Math.round((lookbackMinutes * 60) / 60));
  const title = `Rule expression over the last ${lookbackMinutes} min`;
  const source = `promql ${expression}`;
  try {
    const { data, rawBytes } = await prometheus.range(expression, start, now, stepSeconds);
    const lines = data.slice(0, MAX_SERIES).map((series) => formatSeriesSummary(summariseSeries(series)) + thresholdHistory(series, threshold));
    if (data.length > MAX_SERIES) lines.push(`(${data.length - MAX_SERIES} more series not shown)`);
    // The query line above the section already names the expression.
    const head = threshold ? [`alert threshold: ${threshold}`] : [];
    return { title, source, text: [...head, ...(lines.length > 0 ? lines : ['no data in this range'])].join('\n'), rawBytes };
  } catch (error) {
    return { title, source, text: `unavailable: ${(error as Error).message}`, rawBytes: 0 };
  }
}

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

/**
 * How often the series met the alert's condition in the hour and how many times it crossed it: a value
 * that keeps crossing is a flapping alert, not a lasting fault, and the fix differs.
 */
export function thresholdHistory(series: RangeSeries, threshold: string | null): string {
  if (!threshold) return '';
  const [operator, bound] = threshold.split(' ') as [string, string];
  const compare = COMPARE[operator];
  const points = series.values.map(([, value]) => Number(value)).filter((value) => !Number.isNaN(value));
  if (!compare || points.length < 2) return '';
  const met = points.map((value) => compare(value, Number(bound)));
  const crossings = met.slice(1).filter((state, i) => state !== met[i]).length;
  return `; condition met ${Math.round((100 * met.filter(Boolean).length) / met.length)}% of the time, crossed ${crossings}×`;
}

function related(alert: PrometheusAlert, incident: Incident): boolean {
  const sameInstance = incident.instance !== null && alert.labels.instance === incident.instance;
  const sameJob = incident.labels.job !== undefined && alert.labels.job === incident.labels.job;
  return sameInstance || sameJob;
}

async function relatedAlertsSection(incident: Incident, prometheus: PrometheusApi): Promise<ContextSection> {
  const title = 'Other alerts on the same instance or job';
  try {
    const { data, rawBytes } = await prometheus.alerts();
    const others = data.filter((a) => related(a, incident) && a.labels.alertname !== incident.alertName);
    const lines = others.slice(0, MAX_RELATED_ALERTS).map(formatAlert);
    if (others.length > MAX_RELATED_ALERTS) lines.push(`(${others.length - MAX_RELATED_ALERTS} more not shown)`);
    return { title, source: 'prometheus /api/v1/alerts', text: lines.length > 0 ? lines.join('\n') : 'none', rawBytes };
  } catch (error) {
    return { title, source: 'prometheus /api/v1/alerts', text: `unavailable: ${(error as Error).message}`, rawBytes: 0 };
  }
}

function logSelector(incident: Incident, labels: readonly string[]): string | null {
  for (const name of labels) {
    const value = incident.labels[name];
    if (value) return `{${name}="${escapeLogQl(value)}"}`;
  }
  return null;
}

function entries(streams: LokiStream[]): string[] {
  return streams.flatMap((s) => s.values.map(([, line]) => line));
}

function folded(lines: readonly string[]): { count: number; example: string; shape: string }[] {
  const shapes = new Map<string, { count: number; example: string; shape: string }>();
  for (const line of lines) {
    const shape = lineShape(line);
    const seen = shapes.get(shape);
    if (seen) seen.count += 1;
    else shapes.set(shape, { count: 1, example: line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line, shape });
  }
  return [...shapes.values()].sort((a, b) => b.count - a.count);
}

/**
 * The alert's logs, folded: error lines (`errorPattern`) counted with the most frequent, then the most
 * frequent of the newest lines of any level that are not errors, since a cause is often a WARN line or
 * an access log (the one address hammering a login page) rather than an ERROR.
 */
async function logSection(incident: Incident, loki: LokiApi, settings: AgentConfig['context'], now: Date): Promise<ContextSection | null> {
  const selector = logSelector(incident, settings.logLabels);
  if (!selector) return null;
  const errorQuery = `${selector} |~ "${escapeLogQl(settings.errorPattern)}"`;
  const title = `Logs over the last ${settings.lookbackMinutes} min`;
  const source = `logql ${selector}`;
  try {
    const start = new Date(now.getTime() - settings.lookbackMinutes * 60_000);
    const [errors, sample] = await Promise.all([
      loki.queryRange(errorQuery, { start, end: now, limit: ERROR_LINE_LIMIT, direction: 'backward' }),
      loki.queryRange(selector, { start, end: now, limit: SAMPLE_LINE_LIMIT, direction: 'backward' }),
    ]);
    const errorLines = entries(errors.data);
    const errorShapes = folded(errorLines);
    const shown = new Set(errorShapes.slice(0, TOP_ERROR_LINES).map((s) => s.shape));
    const others = folded(entries(sample.data)).filter((s) => !shown.has(s.shape) && !errorShapes.some((e) => e.shape === s.shape));
    const total = errorLines.length >= ERROR_LINE_LIMIT ? `at least ${errorLines.length}` : String(errorLines.length);
    const text = [
      errorLines.length === 0 ? 'no error lines' : `${total} error lines, ${errorShapes.length} distinct; most frequent:`,
      ...errorShapes.slice(0, TOP_ERROR_LINES).map((t) => `${t.count}× ${t.example}`),
      ...(others.length > 0 ? [`other frequent lines (newest ${SAMPLE_LINE_LIMIT}):`, ...others.slice(0, TOP_OTHER_LINES).map((t) => `${t.count}× ${t.example}`)] : []),
    ].join('\n');
    return { title, source, text, rawBytes: errors.rawBytes + sample.rawBytes };
  } catch (error) {
    return { title, source, text: `unavailable: ${(error as Error).message}`, rawBytes: 0 };
  }
}

/** Names of metrics in the alert's own expression, so the signals section does not repeat them. */
function metricNames(expression: string | null): Set<string> {
  return new Set((expression ?? '').match(/[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*(?:\{|\[|$|\s|\)|>|<|=|!))/g) ?? []);
}

/**
 * Traffic and saturation of the same instance (or job) over the hour: the metrics whose names match
 * `signalPattern` (requests, queues, connections, ...), at most a few, each series summarised. A leak at
 * flat load and a queue backing up behind a stuck worker are told apart here.
 */
async function signalSection(incident: Incident, prometheus: PrometheusApi, settings: AgentConfig['context'], now: Date): Promise<ContextSection | null> {
  const scope = incident.instance ? `instance="${escapeLogQl(incident.instance)}"` : incident.labels.job ? `job="${escapeLogQl(incident.labels.job)}"` : null;
  if (!scope || !settings.signalPattern) return null;
  const title = 'Traffic and saturation on the same instance';
  let source = `promql count by (__name__) ({${scope}})`;
  try {
    const pattern = new RegExp(settings.signalPattern, 'i');
    const own = metricNames(incident.expression);
    const names = await prometheus.instant(`count by (__name__) ({${scope}})`, now);
    const chosen = names.data
      .map((sample) => sample.metric.__name__ ?? '')
      .filter((name) => name && pattern.test(name) && !own.has(name))
      .sort()
      .slice(0, MAX_SIGNAL_METRICS);
    if (chosen.length === 0) return null;
    const selector = `{${scope}, __name__=~"${chosen.join('|')}"}`;
    source = `promql ${selector}`;
    const start = new Date(now.getTime() - settings.lookbackMinutes * 60_000);
    const { data, rawBytes } = await prometheus.range(selector, start, now, Math.max(1, settings.lookbackMinutes));
    const lines = data.slice(0, MAX_SIGNAL_SERIES).map((series) => formatSeriesSummary(summariseSeries(series)));
    if (data.length > MAX_SIGNAL_SERIES) lines.push(`(${data.length - MAX_SIGNAL_SERIES} more series not shown)`);
    return { title, source, text: lines.length > 0 ? lines.join('\n') : 'no data in this range', rawBytes: names.rawBytes + rawBytes };
  } catch (error) {
    return { title, source, text: `unavailable: ${(error as Error).message}`, rawBytes: 0 };
  }
}

async function changeSection(incident: Incident, loki: LokiApi, settings: AgentConfig['context'], now: Date): Promise<ContextSection | null> {
  let query = incident.annotations[CHANGE_QUERY_ANNOTATION] ?? null;
  if (!query && settings.changeSelector) {
    const value = settings.logLabels.map((name) => incident.labels[name]).find(Boolean);
    query = value ? `${settings.changeSelector} |= "${escapeLogQl(value)}"` : settings.changeSelector;
  }
  if (!query) return null;
  const title = `Recent changes (last ${settings.lookbackMinutes} min)`;
  try {
    const start = new Date(now.getTime() - settings.lookbackMinutes * 60_000);
    const { data, rawBytes } = await loki.queryRange(query, { start, end: now, limit: CHANGE_LIMIT, direction: 'backward' });
    const lines = data
      .flatMap((s) => s.values)
      .sort((a, b) => (BigInt(b[0]) > BigInt(a[0]) ? 1 : -1))
      .map(([ns, line]) => `${new Date(Number(BigInt(ns) / 1_000_000n)).toISOString()} ${line.slice(0, MAX_LINE_CHARS)}`);
    return { title, source: `logql ${query}`, text: lines.length > 0 ? lines.join('\n') : 'none recorded', rawBytes };
  } catch (error) {
    return { title, source: `logql ${query}`, text: `unavailable: ${(error as Error).message}`, rawBytes: 0 };
  }
}

/**
 * What a responder looks at first, gathered before the model's first turn so that a small model, or a
 * tight budget, still starts from the facts: the alert, its expression over the last hour (and how often
 * it crossed its threshold), related alerts, traffic and saturation of the same instance, the logs
 * folded with counts, and recent changes.
 */
export async function buildContextPack(incident: Incident, deps: ContextPackDeps): Promise<ContextPack> {
  const now = deps.now ?? new Date();
  const pending: Promise<ContextSection | null>[] = [Promise.resolve(alertSection(incident))];
  if (deps.prometheus) {
    pending.push(
      expressionSection(incident, deps.prometheus, deps.settings.lookbackMinutes, now),
      relatedAlertsSection(incident, deps.prometheus),
      signalSection(incident, deps.prometheus, deps.settings, now),
    );
  }
  if (deps.loki) pending.push(logSection(incident, deps.loki, deps.settings, now), changeSection(incident, deps.loki, deps.settings, now));
  const sections = (await Promise.all(pending)).filter((s): s is ContextSection => s !== null);
  const evidence: EvidenceItem[] = sections.map((s) => ({ kind: 'context', summary: s.title, data: { source: s.source, text: s.text } }));
  return { sections, evidence };
}
