import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { InvalidArgumentError } from '../domain/errors.js';
import { LabelMatcherSchema, SelectorSchema, selectorToPromQl, toSelector, type SelectorArgument } from './label-selector.js';
import { parseToolTime, resolveTimeRange } from './parse-tool-time.js';
import type { InstantSample, PrometheusApi, RangeSeries } from './prometheus-api.js';
import { formatLabels, formatNumber, formatSeriesSummary, parseSampleValue, summariseSeries } from './series-summary.js';
import { omitted, readOnlyTool, runTool, type ErrorHints } from './tool-result.js';

export interface PrometheusToolOptions {
  /** Series summarised per range query; the rest are counted. */
  maxSeries?: number;
  /** Samples listed per instant query. */
  maxSamples?: number;
  now?: () => Date;
}

const HOUR_MS = 3_600_000;
const TARGET_POINTS = 60;

const HINTS: ErrorHints = {
  prometheus_query_failed:
    'Fix the PromQL and call again. Check metric names with list_prometheus_metric_names and label values with list_prometheus_label_values; a range query with too many points needs a larger stepSeconds.',
  prometheus_unreachable: 'Prometheus did not answer; carry on with other evidence, or try once more later.',
};

// Terse on purpose: every description and schema is sent with every model call.
const TIME_ARGUMENT = 'RFC3339, or now, now-1h, now-2h45m';
const WORKFLOW = 'Then → query_prometheus.';

const matchesArgument = z
  .array(z.union([z.string(), SelectorSchema, LabelMatcherSchema]))
  .optional()
  .describe('Series selectors, e.g. up{job="node"}');
const startArgument = z.string().optional().describe(TIME_ARGUMENT);
const endArgument = z.string().optional().describe(TIME_ARGUMENT);

function promQlSelectors(matches: readonly (string | SelectorArgument)[] | undefined): string[] | undefined {
  if (!matches || matches.length === 0) return undefined;
  return matches.map((m) => (typeof m === 'string' ? m : selectorToPromQl(toSelector(m))));
}

function optionalRange(start: string | undefined, end: string | undefined, now: Date): { start?: Date; end?: Date } {
  return { ...(start ? { start: parseToolTime(start, now) } : {}), ...(end ? { end: parseToolTime(end, now) } : {}) };
}

function compileRegex(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new InvalidArgumentError('invalid_argument', `the regex ${JSON.stringify(pattern)} is invalid: ${(error as Error).message}`);
  }
}

function lastValue(series: RangeSeries): number {
  const last = series.values[series.values.length - 1];
  const value = last ? parseSampleValue(last[1]) : NaN;
  return Number.isNaN(value) ? -Infinity : value;
}

/** One summary line per series; when capped, the series with the highest last value are the ones shown. */
export function formatRangeResult(series: readonly RangeSeries[], window: { start: Date; end: Date; stepSeconds: number }, maxSeries: number): string {
  const head = `range ${window.start.toISOString()} → ${window.end.toISOString()}, step ${window.stepSeconds}s: ${series.length} series`;
  if (series.length === 0) {
    return `${head}. No data: the expression matched no series in this range. Check the metric name with list_prometheus_metric_names and label values with list_prometheus_label_values, or widen the range.`;
  }
  const capped = series.length > maxSeries;
  const shown = capped ? [...series].sort((a, b) => lastValue(b) - lastValue(a)).slice(0, maxSeries) : series;
  return [
    capped ? `${head}, showing the ${maxSeries} with the highest last value` : head,
    ...shown.map((s) => formatSeriesSummary(summariseSeries(s))),
    ...omitted(series.length - shown.length, 'series', 'aggregate with sum by (...) or topk(...), or add label matchers'),
  ].join('\n');
}

/** `series value` lines, as the Prometheus console shows an instant vector. */
export function formatInstantResult(samples: readonly InstantSample[], maxSamples: number): string {
  if (samples.length === 0) return 'No data: the expression matched no series at this time. Check names with list_prometheus_metric_names, or run a range query to see when it had data.';
  const at = new Date(samples[0]!.value[0] * 1000).toISOString();
  const shown = samples.slice(0, maxSamples);
  return [
    `${samples.length} series at ${at}`,
    ...shown.map((s) => `${formatLabels(s.metric)} ${formatNumber(parseSampleValue(s.value[1]))}`),
    ...omitted(samples.length - shown.length, 'series', 'aggregate with sum by (...) or topk(...), or add label matchers'),
  ].join('\n');
}

function listText(title: string, noun: string, values: readonly string[], limit: number): string {
  const shown = values.slice(0, limit);
  return [`${title}: ${values.length}${values.length > limit ? `, showing ${limit}` : ''}`, ...shown, ...omitted(values.length - shown.length, noun, 'raise limit or add matches')].join('\n');
}

/** Shared by the two label-listing tools, as in mcp-grafana. */
const labelListArguments = {
  matches: matchesArgument,
  startRfc3339: startArgument,
  endRfc3339: endArgument,
  limit: z.number().int().positive().optional().describe('default 100'),
};

export function registerPrometheusTools(server: McpServer, api: PrometheusApi, options: PrometheusToolOptions = {}): void {
  const maxSeries = options.maxSeries ?? 20;
  const maxSamples = options.maxSamples ?? 50;
  const now = options.now ?? (() => new Date());

  server.registerTool(
    'query_prometheus',
    {
      ...readOnlyTool(
        'Query Prometheus metrics',
        `PromQL query. range (default): one line per series (last, min, max, mean, trend) over startTime..endTime, default the last hour; instant: values at endTime. At most ${maxSeries} series: aggregate for more. Find names with the list_ tools first → query_prometheus.`,
      ),
      inputSchema: {
        expr: z.string().min(1),
        startTime: z.string().optional().describe(TIME_ARGUMENT),
        endTime: z.string().optional().describe('default now'),
        stepSeconds: z.number().positive().optional(),
        queryType: z.enum(['range', 'instant']).optional(),
      },
    },
    (args) =>
      runTool(HINTS, async () => {
        const at = now();
        if (args.queryType === 'instant') {
          const time = args.endTime ? parseToolTime(args.endTime, at) : at;
          const { data, rawBytes } = await api.instant(args.expr, time);
          return { text: formatInstantResult(data, maxSamples), rawBytes };
        }
        const window = resolveTimeRange(args.startTime, args.endTime, at, HOUR_MS);
        const stepSeconds = args.stepSeconds ?? Math.max(1, Math.round((window.end.getTime() - window.start.getTime()) / 1000 / TARGET_POINTS));
        const { data, rawBytes } = await api.range(args.expr, window.start, window.end, stepSeconds);
        return { text: formatRangeResult(data, { ...window, stepSeconds }, maxSeries), rawBytes };
      }),
  );

  server.registerTool(
    'list_prometheus_metric_names',
    {
      ...readOnlyTool(
        'List Prometheus metric names',
        `Metric names matching a regex (unanchored, e.g. 'cpu|memory'), a page at a time. ${WORKFLOW}`,
      ),
      inputSchema: {
        regex: z.string().optional(),
        limit: z.number().int().positive().max(1000).optional().describe('default 10'),
        page: z.number().int().positive().optional(),
        startRfc3339: startArgument,
        endRfc3339: endArgument,
      },
    },
    (args) =>
      runTool(HINTS, async () => {
        const limit = args.limit ?? 10;
        const page = args.page ?? 1;
        const pattern = args.regex ? compileRegex(args.regex) : null;
        const { data, rawBytes } = await api.labelValues('__name__', optionalRange(args.startRfc3339, args.endRfc3339, now()));
        const names = pattern ? data.filter((name) => pattern.test(name)) : data;
        const pages = Math.max(1, Math.ceil(names.length / limit));
        const shown = names.slice((page - 1) * limit, page * limit);
        const filter = args.regex ? ` matching /${args.regex}/` : '';
        const head = `${names.length} metric names${filter}; page ${page} of ${pages}${shown.length === 0 && names.length > 0 ? ' is empty' : ''}`;
        const next = page < pages ? [`(next: page=${page + 1})`] : [];
        return { text: [head, ...shown, ...next].join('\n'), rawBytes };
      }),
  );

  server.registerTool(
    'list_prometheus_label_names',
    {
      ...readOnlyTool(
        'List Prometheus label names',
        `Label names, optionally of series matching the selectors. ${WORKFLOW}`,
      ),
      inputSchema: labelListArguments,
    },
    (args) =>
      runTool(HINTS, async () => {
        const match = promQlSelectors(args.matches);
        const { data, rawBytes } = await api.labelNames({ ...optionalRange(args.startRfc3339, args.endRfc3339, now()), ...(match ? { match } : {}) });
        return { text: listText('label names', 'names', data, args.limit ?? 100), rawBytes };
      }),
  );

  server.registerTool(
    'list_prometheus_label_values',
    {
      ...readOnlyTool(
        'List Prometheus label values',
        `Values of one label (e.g. instance), optionally on series matching the selectors. ${WORKFLOW}`,
      ),
      inputSchema: { ...labelListArguments, labelName: z.string().min(1) },
    },
    (args) =>
      runTool(HINTS, async () => {
        const match = promQlSelectors(args.matches);
        const { data, rawBytes } = await api.labelValues(args.labelName, { ...optionalRange(args.startRfc3339, args.endRfc3339, now()), ...(match ? { match } : {}) });
        return { text: listText(`values of label "${args.labelName}"`, 'values', data, args.limit ?? 100), rawBytes };
      }),
  );
}
