import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { compactLogStreams } from './compact-log-streams.js';
import type { LokiApi } from './loki-api.js';
import { resolveTimeRange, TIME_FORMAT_HINT } from './parse-tool-time.js';
import { datasourceUidArgument, omitted, readOnlyTool, runTool, type ErrorHints } from './tool-result.js';

export interface LokiToolOptions {
  maxLineChars?: number;
  now?: () => Date;
}

const HOUR_MS = 3_600_000;
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;
const MAX_VALUES = 200;

const HINTS: ErrorHints = {
  loki_query_failed:
    'Fix the LogQL and call again: it needs a stream selector with at least one label matcher, e.g. {app="web"} |= "error". Find labels with list_loki_label_names and list_loki_label_values.',
  loki_unreachable: 'Loki did not answer; carry on with other evidence, or try once more later.',
};

const WORKFLOW = 'WORKFLOW: list_loki_label_names → list_loki_label_values → query_loki_logs.';
const startArgument = z.string().optional().describe(`Optionally, the start time of the query (default: an hour before the end); ${TIME_FORMAT_HINT}`);
const endArgument = z.string().optional().describe(`Optionally, the end time of the query (default: now); ${TIME_FORMAT_HINT}`);

export function registerLokiTools(server: McpServer, api: LokiApi, options: LokiToolOptions = {}): void {
  const maxLineChars = options.maxLineChars ?? 300;
  const now = options.now ?? (() => new Date());

  server.registerTool(
    'query_loki_logs',
    {
      ...readOnlyTool(
        'Query Loki logs',
        `${WORKFLOW} Runs a LogQL log query and returns matching lines, compacted: each stream's labels once, identical lines folded into one with a count and time span, lines cut at ${maxLineChars} characters. Defaults: the last hour, limit ${DEFAULT_LIMIT} lines (at most ${MAX_LIMIT}), direction 'backward' (newest first). Use a selective stream selector and line filters, e.g. {app="web"} |= "error" or {host="web1"} |~ "timeout|refused".`,
      ),
      inputSchema: {
        datasourceUid: datasourceUidArgument,
        logql: z.string().min(1).describe('The LogQL query: a stream selector with at least one label matcher, then optional line filters (|= != |~ !~) and pipeline stages'),
        startRfc3339: startArgument,
        endRfc3339: endArgument,
        limit: z.number().int().positive().optional().describe(`Optionally, the maximum number of log lines to return (default ${DEFAULT_LIMIT}, max ${MAX_LIMIT})`),
        direction: z.enum(['forward', 'backward']).optional().describe("Optionally, 'forward' (oldest first) or 'backward' (newest first, default)"),
      },
    },
    (args) =>
      runTool(HINTS, async () => {
        const window = resolveTimeRange(args.startRfc3339, args.endRfc3339, now(), HOUR_MS);
        const limit = Math.min(args.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
        const direction = args.direction ?? 'backward';
        const { data, rawBytes } = await api.queryRange(args.logql, { ...window, limit, direction });
        const lines = data.reduce((sum, s) => sum + s.values.length, 0);
        const range = `${window.start.toISOString()} → ${window.end.toISOString()}`;
        if (lines === 0) {
          return {
            text: `No log lines matched ${args.logql} between ${range}. Check the selector's labels with list_loki_label_names / list_loki_label_values, loosen the line filters, or widen the range.`,
            rawBytes,
          };
        }
        const capped = lines >= limit ? [`(limit of ${limit} lines reached: there are likely more; narrow the filters or the range${limit < MAX_LIMIT ? `, or raise limit up to ${MAX_LIMIT}` : ''})`] : [];
        return { text: [`${range}: ${compactLogStreams(data, { maxLineChars, direction })}`, ...capped].join('\n'), rawBytes };
      }),
  );

  server.registerTool(
    'list_loki_label_names',
    {
      ...readOnlyTool(
        'List Loki label names',
        `${WORKFLOW} Lists the label names on log streams (e.g. app, host, job) in a time range (default: the last hour), to build the stream selector of query_loki_logs.`,
      ),
      inputSchema: { datasourceUid: datasourceUidArgument, startRfc3339: startArgument, endRfc3339: endArgument },
    },
    (args) =>
      runTool(HINTS, async () => {
        const { data, rawBytes } = await api.labels(resolveTimeRange(args.startRfc3339, args.endRfc3339, now(), HOUR_MS));
        return { text: data.length > 0 ? `${data.length} label names:\n${data.join('\n')}` : 'No log streams in this time range; widen it.', rawBytes };
      }),
  );

  server.registerTool(
    'list_loki_label_values',
    {
      ...readOnlyTool(
        'List Loki label values',
        `${WORKFLOW} Lists the values of one log stream label (e.g. labelName 'host' → web1, web2) in a time range (default: the last hour).`,
      ),
      inputSchema: {
        datasourceUid: datasourceUidArgument,
        labelName: z.string().min(1).describe("The name of the label to retrieve values for (e.g. 'app', 'host', 'job')"),
        startRfc3339: startArgument,
        endRfc3339: endArgument,
      },
    },
    (args) =>
      runTool(HINTS, async () => {
        const { data, rawBytes } = await api.labelValues(args.labelName, resolveTimeRange(args.startRfc3339, args.endRfc3339, now(), HOUR_MS));
        if (data.length === 0) return { text: `No values of label "${args.labelName}" in this time range; check the name with list_loki_label_names.`, rawBytes };
        const shown = data.slice(0, MAX_VALUES);
        const text = [`${data.length} values of label "${args.labelName}":`, ...shown, ...omitted(data.length - shown.length, 'values', 'narrow the time range')].join('\n');
        return { text, rawBytes };
      }),
  );
}
