import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { compactLogStreams } from './compact-log-streams.js';
import type { LokiApi } from './loki-api.js';
import { resolveTimeRange } from './parse-tool-time.js';
import { omitted, readOnlyTool, runTool, type ErrorHints } from './tool-result.js';

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

// Terse on purpose: every description and schema is sent with every model call.
const TIME_ARGUMENT = 'RFC3339, or now, now-1h, now-2h45m';
const WORKFLOW = 'Then → query_loki_logs.';
const startArgument = z.string().optional().describe(`default an hour before the end; ${TIME_ARGUMENT}`);
const endArgument = z.string().optional().describe('default now');

export function registerLokiTools(server: McpServer, api: LokiApi, options: LokiToolOptions = {}): void {
  const maxLineChars = options.maxLineChars ?? 300;
  const now = options.now ?? (() => new Date());

  server.registerTool(
    'query_loki_logs',
    {
      ...readOnlyTool(
        'Query Loki logs',
        `LogQL query, e.g. {app="web"} |= "error". Identical lines are folded with a count. Default the last hour, ${DEFAULT_LIMIT} lines (max ${MAX_LIMIT}), newest first. Find labels with the list_ tools → query_loki_logs.`,
      ),
      inputSchema: {
        logql: z.string().min(1),
        startRfc3339: startArgument,
        endRfc3339: endArgument,
        limit: z.number().int().positive().optional(),
        direction: z.enum(['forward', 'backward']).optional(),
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
        `Label names of log streams, default the last hour. ${WORKFLOW}`,
      ),
      inputSchema: { startRfc3339: startArgument, endRfc3339: endArgument },
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
        `Values of one log stream label, default the last hour. ${WORKFLOW}`,
      ),
      inputSchema: {
        labelName: z.string().min(1),
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
