import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { matchesSelector, SelectorArgumentSchema, toSelector } from './label-selector.js';
import type { PrometheusAlert, PrometheusApi, PrometheusRule } from './prometheus-api.js';
import { formatLabels, formatNumber, parseSampleValue } from './series-summary.js';
import { datasourceUidArgument, omitted, readOnlyTool, runTool, type ErrorHints } from './tool-result.js';

const HINTS: ErrorHints = {
  prometheus_query_failed: 'Prometheus refused to list rules or alerts; carry on with query_prometheus.',
  prometheus_unreachable: 'Prometheus did not answer; carry on with other evidence, or try once more later.',
};

const STATE_ORDER: Record<string, number> = { firing: 0, pending: 1, inactive: 2 };
const MAX_ANNOTATION_CHARS = 200;

function short(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_ANNOTATION_CHARS ? `${flat.slice(0, MAX_ANNOTATION_CHARS)}…` : flat;
}

function summaryOf(annotations: Record<string, string>): string {
  const text = annotations.summary ?? annotations.description;
  return text ? ` — ${short(text)}` : '';
}

/** `[firing] HighCpu (group node, health ok, 2 alerts) expr: ... labels {severity="page"} — summary` */
export function formatRule(rule: PrometheusRule): string {
  const active = rule.alerts.filter((a) => a.state === 'firing' || a.state === 'pending').length;
  const details = [`group ${rule.group}`, `health ${rule.health ?? 'unknown'}`, ...(active > 0 ? [`${active} active alert${active === 1 ? '' : 's'}`] : [])].join(', ');
  const labels = Object.keys(rule.labels).length > 0 ? ` labels ${formatLabels(rule.labels)}` : '';
  return `[${rule.state ?? 'unknown'}] ${rule.name} (${details}) expr: ${rule.query}${labels}${summaryOf(rule.annotations)}`;
}

/** `HighCpu firing since 2024-05-01T10:00:00Z value=0.97 {instance="web1",job="node"} — CPU above 90 %` */
export function formatAlert(alert: PrometheusAlert): string {
  const { alertname, ...labels } = alert.labels;
  const since = alert.activeAt ? ` since ${alert.activeAt.replace(/\.\d+Z$/, 'Z')}` : '';
  const value = alert.value !== undefined ? ` value=${formatNumber(parseSampleValue(alert.value))}` : '';
  return `${alertname ?? '(unnamed)'} ${alert.state}${since}${value} ${formatLabels(labels)}${summaryOf(alert.annotations)}`;
}

function byStateThenName(a: PrometheusRule, b: PrometheusRule): number {
  return (STATE_ORDER[a.state ?? ''] ?? 3) - (STATE_ORDER[b.state ?? ''] ?? 3) || a.name.localeCompare(b.name);
}

export function registerAlertingTools(server: McpServer, api: PrometheusApi): void {
  server.registerTool(
    'list_firing_alerts',
    {
      ...readOnlyTool(
        'List firing alerts',
        "Start an investigation here: lists the alerts Prometheus has firing now, one line each (name, state, since, value, labels, summary), oldest first. Use matchLabels to keep those on the same instance or job as the alert under investigation, e.g. {\"instance\":\"web1:9100\"}. Then list_alert_rules for the rules' expressions, and query_prometheus to see them over time.",
      ),
      inputSchema: {
        datasourceUid: datasourceUidArgument,
        matchLabels: z.record(z.string()).optional().describe('Optionally, labels an alert must carry with exactly these values, e.g. {"job":"node"}'),
        includePending: z.boolean().optional().describe('Also list pending alerts (condition true but not yet for long enough); default false'),
        limit: z.number().int().positive().optional().describe('The maximum number of alerts to return (default 50)'),
      },
    },
    (args) =>
      runTool(HINTS, async () => {
        const { data, rawBytes } = await api.alerts();
        const wanted = Object.entries(args.matchLabels ?? {});
        const matching = data.filter((alert) => wanted.every(([name, value]) => alert.labels[name] === value));
        const states = args.includePending ? ['firing', 'pending'] : ['firing'];
        const listed = matching.filter((a) => states.includes(a.state)).sort((a, b) => (a.activeAt ?? '').localeCompare(b.activeAt ?? ''));
        const limit = args.limit ?? 50;
        const pending = args.includePending ? 0 : matching.filter((a) => a.state === 'pending').length;
        const filter = wanted.length > 0 ? ` matching ${formatLabels(args.matchLabels ?? {})}` : '';
        const head = `${listed.length} ${args.includePending ? 'firing or pending' : 'firing'} alert${listed.length === 1 ? '' : 's'}${filter}${pending > 0 ? ` (${pending} pending not listed; includePending=true shows them)` : ''}`;
        return {
          text: [head, ...listed.slice(0, limit).map(formatAlert), ...omitted(listed.length - limit, 'alerts', 'raise limit or narrow matchLabels')].join('\n'),
          rawBytes,
        };
      }),
  );

  server.registerTool(
    'list_alert_rules',
    {
      ...readOnlyTool(
        'List alert rules',
        "Lists Prometheus alerting rules, firing first, one line each: state (firing, pending, inactive — inactive means normal), name, group, health, the PromQL expression, labels and summary. Use it after list_firing_alerts to read the expression behind an alert, then query_prometheus on that expression. Filter with label_selectors, e.g. [{\"filters\":[{\"name\":\"severity\",\"type\":\"=\",\"value\":\"critical\"}]}]; the rule name matches as label 'alertname'.",
      ),
      inputSchema: {
        datasourceUid: datasourceUidArgument,
        label_selectors: z.array(SelectorArgumentSchema).optional().describe('Optionally, a list of selectors; a rule is listed when it matches any of them'),
        limit: z.number().int().positive().optional().describe('The maximum number of results to return (default 100)'),
        page: z.number().int().positive().optional().describe('The page number to return (default 1)'),
      },
    },
    (args) =>
      runTool(HINTS, async () => {
        const { data, rawBytes } = await api.rules();
        const selectors = (args.label_selectors ?? []).map(toSelector);
        const rules = data
          .filter((rule) => rule.type === 'alerting')
          .filter((rule) => selectors.length === 0 || selectors.some((s) => matchesSelector(s, { ...rule.labels, alertname: rule.name })))
          .sort(byStateThenName);
        const limit = args.limit ?? 100;
        const page = args.page ?? 1;
        const pages = Math.max(1, Math.ceil(rules.length / limit));
        const shown = rules.slice((page - 1) * limit, page * limit);
        const tally = new Map<string, number>();
        for (const rule of rules) tally.set(rule.state ?? 'unknown', (tally.get(rule.state ?? 'unknown') ?? 0) + 1);
        const counts = [...tally].map(([state, count]) => `${count} ${state}`);
        const head = `${rules.length} alerting rules${counts.length > 0 ? ` (${counts.join(', ')})` : ''}${pages > 1 ? `; page ${page} of ${pages}` : ''}`;
        return { text: [head, ...shown.map(formatRule), ...(page < pages ? [`(next: page=${page + 1})`] : [])].join('\n'), rawBytes };
      }),
  );
}
