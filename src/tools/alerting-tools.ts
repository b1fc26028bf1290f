import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { matchesSelector, SelectorArgumentSchema, toSelector } from './label-selector.js';
import type { PrometheusAlert, PrometheusApi, PrometheusRule } from './prometheus-api.js';
import { formatLabels, formatNumber, parseSampleValue } from './series-summary.js';
import { omitted, readOnlyTool, runTool, type ErrorHints } from './tool-result.js';

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
        'Alerts firing now, one line each, oldest first; matchLabels keeps those with these label values. Then → list_alert_rules, query_prometheus.',
      ),
      inputSchema: {
        matchLabels: z.record(z.string()).optional(),
        includePending: z.boolean().optional(),
        limit: z.number().int().positive().optional().describe('default 50'),
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
        "Alerting rules, firing first, each with its PromQL; use after list_firing_alerts. label_selectors match labels and 'alertname'. Then → query_prometheus.",
      ),
      inputSchema: {
        label_selectors: z.array(SelectorArgumentSchema).optional(),
        limit: z.number().int().positive().optional().describe('default 100'),
        page: z.number().int().positive().optional(),
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
