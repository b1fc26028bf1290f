import type { AgentConfig } from '../config/config.schema.js';
import type { EvidenceItem } from '../domain/proposal.js';
import type { Incident } from '../domain/incident-record.js';
import type { LokiApi, LokiStream } from '../tools/loki-api.js';
import type { PrometheusAlert, PrometheusApi } from '../tools/prometheus-api.js';
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

/** Lines differing only in numbers, ids or timestamps are the same error. */
function errorShape(line: string): string {
  return line
    .replace(/\b\d{4}-\d{2}-\d{2}[T ][\d:.]+Z?\b/g, '<time>')
    .replace(/\b[0-9a-f]{8,}\b/gi, '<id>')
    .replace(/\d+/g, '<n>')
    .trim();
}

function escapeLogQl(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

function alertSection(incident: Incident): ContextSection {
  const text = [
    `name: ${incident.alertName}`,
    `severity: ${incident.severity}`,
    `labels: ${labelText(incident.labels)}`,
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
    const lines = data.slice(0, MAX_SERIES).map((series) => formatSeriesSummary(summariseSeries(series)));
    if (data.length > MAX_SERIES) lines.push(`(${data.length - MAX_SERIES} more series not shown)`);
    const head = `${expression}${threshold ? `   (alert threshold: ${threshold})` : ''}`;
    return { title, source, text: [head, ...(lines.length > 0 ? lines : ['no data in this range'])].join('\n'), rawBytes };
  } catch (error) {
    return { title, source, text: `unavailable: ${(error as Error).message}`, rawBytes: 0 };
  }
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
    const lines = others.slice(0, MAX_RELATED_ALERTS).map((a) => {
      const summary = a.annotations.summary ?? a.annotations.description ?? '';
      return `${a.labels.alertname ?? '(unnamed)'} ${a.state} since ${a.activeAt ?? '?'} value=${a.value ?? '?'} ${labelText(a.labels)}${summary ? ` — ${summary}` : ''}`;
    });
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

async function errorLogSection(incident: Incident, loki: LokiApi, settings: AgentConfig['context'], now: Date): Promise<ContextSection | null> {
  const selector = logSelector(incident, settings.logLabels);
  if (!selector) return null;
  const query = `${selector} |~ "${escapeLogQl(settings.errorPattern)}"`;
  const title = `Error logs over the last ${settings.lookbackMinutes} min`;
  try {
    const start = new Date(now.getTime() - settings.lookbackMinutes * 60_000);
    const { data, rawBytes } = await loki.queryRange(query, { start, end: now, limit: ERROR_LINE_LIMIT, direction: 'backward' });
    const lines = entries(data);
    const shapes = new Map<string, { count: number; example: string }>();
    for (const line of lines) {
      const shape = errorShape(line);
      const seen = shapes.get(shape);
      if (seen) seen.count += 1;
      else shapes.set(shape, { count: 1, example: line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line });
    }
    const top = [...shapes.values()].sort((a, b) => b.count - a.count).slice(0, TOP_ERROR_LINES);
    const total = lines.length >= ERROR_LINE_LIMIT ? `at least ${lines.length}` : String(lines.length);
    const text =
      lines.length === 0
        ? 'no error lines'
        : [`${total} error lines in ${data.length} stream(s), ${shapes.size} distinct; most frequent:`, ...top.map((t) => `${t.count}× ${t.example}`)].join('\n');
    return { title, source: `logql ${query}`, text, rawBytes };
  } catch (error) {
    return { title, source: `logql ${query}`, text: `unavailable: ${(error as Error).message}`, rawBytes: 0 };
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
 * tight budget, still starts from the facts: the alert, its expression over the last hour, related
 * alerts, error-log counts with the most frequent lines, and recent changes.
 */
export async function buildContextPack(incident: Incident, deps: ContextPackDeps): Promise<ContextPack> {
  const now = deps.now ?? new Date();
  const pending: Promise<ContextSection | null>[] = [Promise.resolve(alertSection(incident))];
  if (deps.prometheus) {
    pending.push(expressionSection(incident, deps.prometheus, deps.settings.lookbackMinutes, now), relatedAlertsSection(incident, deps.prometheus));
  }
  if (deps.loki) pending.push(errorLogSection(incident, deps.loki, deps.settings, now), changeSection(incident, deps.loki, deps.settings, now));
  const sections = (await Promise.all(pending)).filter((s): s is ContextSection => s !== null);
  const evidence: EvidenceItem[] = sections.map((s) => ({ kind: 'context', summary: s.title, data: { source: s.source, text: s.text } }));
  return { sections, evidence };
}
