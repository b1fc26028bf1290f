import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { ResponderError } from '../domain/errors.js';
import { closeServer, listenOnLoopback, readBody } from './listen-on-loopback.js';
import { matchesLine, matchesStream, parseLogQuery, type LogQuery } from './parse-log-query.js';

export interface FakeLoki {
  /** http://127.0.0.1:<port>, no trailing slash. */
  url: string;
  /** Stores lines as a push would; `at` is a Date or unix milliseconds. */
  push(labels: Record<string, string>, lines: { at: Date | number; line: string }[]): void;
  /** Everything stored, streams and lines in the order they arrived; timestamps as unix nanosecond strings. */
  streams(): { stream: Record<string, string>; values: [string, string][] }[];
  /** Every stored entry with its stream and the structured metadata it was pushed with, in arrival order. */
  entries(): FakeLokiEntry[];
  /** While set, every API request answers this status, as a Loki that is down or overloaded does; null brings it back. */
  setOutage(status: number | null): void;
  close(): Promise<void>;
}

export interface FakeLokiEntry {
  stream: Record<string, string>;
  ns: string;
  line: string;
  metadata: Record<string, string>;
}

export interface FakeLokiOptions {
  /**
   * Loki's reject_old_samples: entries older than this are dropped and the push answers 400 naming them,
   * while the rest of the push is stored. Off unless given (Loki's own default is a week).
   */
  rejectOlderThanMs?: number;
  /** Loki's allow_structured_metadata (on by default in Loki 3); off, a push carrying metadata is refused. */
  structuredMetadata?: boolean;
}

export const LokiPushSchema = z.object({
  streams: z.array(
    z.object({
      stream: z.record(z.string()),
      // A third element carries structured metadata: names to string values.
      values: z.array(
        z.union([
          z.tuple([z.string().regex(/^\d+$/, 'timestamp must be a string of unix nanoseconds'), z.string()]),
          z.tuple([z.string().regex(/^\d+$/, 'timestamp must be a string of unix nanoseconds'), z.string(), z.record(z.string())]),
        ]),
      ),
    }),
  ),
});
export type LokiPush = z.infer<typeof LokiPushSchema>;

interface StoredEntry {
  ns: bigint;
  line: string;
  metadata: Record<string, string>;
}

interface StoredStream {
  labels: Record<string, string>;
  entries: StoredEntry[];
  seen: Set<string>;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const NS_PER_SECOND = 1_000_000_000n;
const HOUR_NS = 3600n * NS_PER_SECOND;

function streamKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function labelProblem(labels: Record<string, string>): string | undefined {
  const names = Object.keys(labels);
  if (names.length === 0) return 'error at least one label pair is required per stream';
  const bad = names.find((name) => !LABEL_NAME.test(name));
  return bad === undefined ? undefined : `error parsing labels: invalid label name ${JSON.stringify(bad)}`;
}

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

function msToNs(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

/** Loki's timestamp rules: a decimal is seconds, an integer of up to ten digits seconds, a longer one nanoseconds, else RFC3339. */
export function parseLokiTime(value: string): bigint | undefined {
  const decimal = /^(\d+)\.(\d*)$/.exec(value);
  if (decimal) return BigInt(decimal[1]!) * NS_PER_SECOND + BigInt(decimal[2]!.padEnd(9, '0').slice(0, 9));
  if (/^\d+$/.test(value)) return value.length <= 10 ? BigInt(value) * NS_PER_SECOND : BigInt(value);
  const rfc3339 = /^(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)$/.exec(value);
  if (!rfc3339) return undefined;
  const ms = Date.parse(`${rfc3339[1]!.replace(/[t ]/, 'T')}${rfc3339[3]!.toUpperCase()}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((rfc3339[2] ?? '').padEnd(9, '0').slice(0, 9));
}

class BadRequest extends ResponderError {
  constructor(message: string, readonly status = 400) {
    super('fake_loki_bad_request', message);
  }
}

function timeParameter(params: URLSearchParams, name: string, fallback: bigint): bigint {
  const value = params.get(name);
  if (value === null || value === '') return fallback;
  const parsed = parseLokiTime(value);
  if (parsed === undefined) throw new BadRequest(`invalid parameter "${name}": cannot parse "${value}" to a valid timestamp`);
  return parsed;
}

function queryParameter(params: URLSearchParams, required: boolean): LogQuery | undefined {
  const text = params.get('query');
  if (text === null || text === '') {
    if (required) throw new BadRequest('parse error : query parameter "query" is required');
    return undefined;
  }
  const parsed = parseLogQuery(text);
  if (parsed.kind === 'invalid') throw new BadRequest(parsed.message);
  return parsed.query;
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(text.endsWith('\n') ? text : `${text}\n`);
}

function sendJson(response: ServerResponse, body: unknown): void {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/**
 * Loki's HTTP API for tests, since Loki itself (AGPL) is not installed here: JSON push, query_range over
 * log queries (a stream selector and line filters), and the label endpoints. Errors are plain text, as Loki's are.
 */
export async function startFakeLoki(options: FakeLokiOptions = {}): Promise<FakeLoki> {
  const stored = new Map<string, StoredStream>();
  const arrivals: { key: string; entry: StoredEntry }[] = [];
  let outage: number | null = null;

  function store(labels: Record<string, string>, entries: readonly StoredEntry[]): void {
    const key = streamKey(labels);
    let stream = stored.get(key);
    if (!stream) {
      stream = { labels: { ...labels }, entries: [], seen: new Set() };
      stored.set(key, stream);
    }
    for (const entry of entries) {
      // Loki drops an entry identical in timestamp and line to one it holds, so a retried push is harmless.
      const identity = `${entry.ns} ${entry.line}`;
      if (stream.seen.has(identity)) continue;
      stream.seen.add(identity);
      stream.entries.push(entry);
      arrivals.push({ key, entry });
    }
  }

  function streamsBetween(start: bigint, end: bigint, query: LogQuery | undefined): StoredStream[] {
    return [...stored.values()].filter(
      (stream) =>
        (query === undefined || matchesStream(query, stream.labels)) && stream.entries.some((entry) => entry.ns >= start && entry.ns <= end),
    );
  }

  async function handlePush(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      throw new BadRequest(`the fake Loki supports only JSON push (Content-Type: application/json), not ${JSON.stringify(type || '(none)')}`, 415);
    }
    let body = await readBody(request);
    if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new BadRequest(`error parsing push request: ${(error as Error).message}`);
    }
    const parsed = LokiPushSchema.safeParse(json);
    if (!parsed.success) {
      throw new BadRequest(`error parsing push request: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    }
    for (const { stream, values } of parsed.data.streams) {
      const problem = labelProblem(stream);
      if (problem) throw new BadRequest(problem);
      if (options.structuredMetadata === false && values.some((value) => value.length > 2)) {
        // Loki's wording, which clients may match on.
        throw new BadRequest(`stream '${streamKey(stream)}' includes structured metadata, but this feature is disallowed. Please see \`limits_config.allow_structured_metadata\` or contact your Loki administrator to enable it.`);
      }
    }
    const oldest = options.rejectOlderThanMs === undefined ? null : nowNs() - msToNs(options.rejectOlderThanMs);
    const tooOld: string[] = [];
    for (const { stream, values } of parsed.data.streams) {
      const entries = values.map(([ns, line, metadata]) => ({ ns: BigInt(ns), line, metadata: metadata ?? {} }));
      for (const entry of entries.filter((e) => oldest !== null && e.ns < oldest)) tooOld.push(`entry for stream '${streamKey(stream)}' has timestamp too old: ${entry.ns}, oldest acceptable timestamp is: ${oldest}`);
      store(stream, entries.filter((e) => oldest === null || e.ns >= oldest));
    }
    // Loki stores the valid entries of a push and answers 400 for the ones it dropped.
    if (tooOld.length > 0) throw new BadRequest(tooOld.join('\n'));
    response.writeHead(204);
    response.end();
  }

  function queryRange(params: URLSearchParams): unknown {
    const query = queryParameter(params, true)!;
    const end = timeParameter(params, 'end', nowNs());
    const start = timeParameter(params, 'start', end - HOUR_NS);
    if (end <= start) throw new BadRequest('end timestamp must not be before or equal to start time');
    const limit = Number(params.get('limit') ?? '100');
    if (!Number.isInteger(limit) || limit <= 0) throw new BadRequest('limit must be a positive value');
    const direction = (params.get('direction') ?? 'backward').toLowerCase();
    if (direction !== 'backward' && direction !== 'forward') throw new BadRequest(`invalid direction ${JSON.stringify(params.get('direction'))}`);
    const sign = direction === 'forward' ? 1 : -1;

    // The limit counts entries across all streams, newest (or oldest) first, as Loki applies it.
    const hits = [...stored.entries()]
      .filter(([, stream]) => matchesStream(query, stream.labels))
      .flatMap(([key, stream]) =>
        stream.entries.filter((entry) => entry.ns >= start && entry.ns < end && matchesLine(query, entry.line)).map((entry) => ({ key, ...entry })),
      )
      .sort((a, b) => (a.ns === b.ns ? 0 : a.ns < b.ns ? -sign : sign))
      .slice(0, limit);
    const byStream = new Map<string, [string, string][]>();
    for (const hit of hits) {
      const values = byStream.get(hit.key) ?? [];
      values.push([hit.ns.toString(), hit.line]);
      byStream.set(hit.key, values);
    }
    const result = [...byStream.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, values]) => ({ stream: stored.get(key)!.labels, values }));
    return { status: 'success', data: { resultType: 'streams', result, stats: {} } };
  }

  function labelStreams(params: URLSearchParams): StoredStream[] {
    // Loki looks at the last six hours unless told otherwise.
    const end = timeParameter(params, 'end', nowNs());
    const start = timeParameter(params, 'start', end - 6n * HOUR_NS);
    return streamsBetween(start, end, queryParameter(params, false));
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    const path = url.pathname;
    if (outage !== null) return sendText(response, outage, outage === 429 ? 'Ingestion rate limit exceeded' : 'Loki is unavailable (fake outage)');
    if (path === '/ready' && method === 'GET') return sendText(response, 200, 'ready');
    if (path === '/loki/api/v1/push' && method === 'POST') return handlePush(request, response);
    if (path === '/loki/api/v1/query_range' && (method === 'GET' || method === 'POST')) {
      const params = new URLSearchParams(url.searchParams);
      if (method === 'POST') {
        for (const [name, value] of new URLSearchParams((await readBody(request)).toString('utf8'))) params.set(name, value);
      }
      return sendJson(response, queryRange(params));
    }
    if (path === '/loki/api/v1/labels' && method === 'GET') {
      const names = new Set(labelStreams(url.searchParams).flatMap((stream) => Object.keys(stream.labels)));
      return sendJson(response, { status: 'success', data: [...names].sort() });
    }
    const valuesPath = /^\/loki\/api\/v1\/label\/([^/]+)\/values$/.exec(path);
    if (valuesPath && method === 'GET') {
      const name = decodeURIComponent(valuesPath[1]!);
      const values = new Set(labelStreams(url.searchParams).flatMap((stream) => (name in stream.labels ? [stream.labels[name]!] : [])));
      return sendJson(response, { status: 'success', data: [...values].sort() });
    }
    sendText(response, 404, '404 page not found');
  }

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      if (response.headersSent) return;
      if (error instanceof BadRequest) sendText(response, error.status, error.message);
      else sendText(response, 500, `fake Loki failed: ${(error as Error).message}`);
    });
  });
  const url = await listenOnLoopback(server);
  let closing: Promise<void> | undefined;

  return {
    url,
    push(labels, lines) {
      const problem = labelProblem(labels);
      if (problem) throw new ResponderError('fake_loki_invalid_push', problem, { labels });
      store(
        labels,
        lines.map(({ at, line }) => ({ ns: msToNs(at instanceof Date ? at.getTime() : at), line, metadata: {} })),
      );
    },
    streams() {
      return [...stored.values()].map((stream) => ({
        stream: { ...stream.labels },
        values: stream.entries.map((entry): [string, string] => [entry.ns.toString(), entry.line]),
      }));
    },
    entries() {
      return arrivals.map(({ key, entry }) => ({ stream: { ...stored.get(key)!.labels }, ns: entry.ns.toString(), line: entry.line, metadata: { ...entry.metadata } }));
    },
    setOutage(status) {
      outage = status;
    },
    close() {
      closing ??= closeServer(server);
      return closing;
    },
  };
}
