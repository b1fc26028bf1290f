import type { IncomingMessage, ServerResponse } from 'node:http';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { Config } from '../config/config.schema.js';
import { safeEqualStrings, verifyGrafanaSignature } from '../ingest/grafana-signature.js';
import { acceptNotification, parseWebhook, SOURCES, type IntakeDeps, type Source } from '../ingest/intake.js';
import { problemForError } from './error-problem.js';
import type { Metrics } from './metrics.js';
import { problem, problemJson, type Problem } from './problem.js';
import { incomingHeader, readIncomingLimited, readLimited, untouchedIncoming, type BodyRead } from './read-body.js';

export interface IntakeRouteDeps extends IntakeDeps {
  intake: Config['intake'] & { key: string };
  bodyLimitBytes: number;
  metrics: Metrics;
}

function isJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  return mediaType === 'application/json' || (mediaType.startsWith('application/') && mediaType.endsWith('+json'));
}

/** One webhook request, whichever server path it came by. */
interface WebhookRequest {
  source: string;
  key: string;
  header(name: string): string | undefined;
  readBody(limit: number): Promise<BodyRead>;
}

type WebhookAnswer = { ok: true; status: 202; body: string } | { ok: false; problem: Problem };

/** Everything the webhook route answers, except a thrown error (the server's error handler answers that). */
async function answerWebhook(deps: IntakeRouteDeps, request: WebhookRequest): Promise<WebhookAnswer> {
  const { source } = request;
  if (!SOURCES.includes(source as Source)) {
    return { ok: false, problem: { status: 404, code: 'unknown-source', title: 'Unknown alert source', detail: `use one of: ${SOURCES.join(', ')}` } };
  }
  const count = (outcome: string) => deps.metrics.webhookRequests.inc({ source, outcome });
  if (!safeEqualStrings(request.key, deps.intake.key)) {
    count('unauthorized');
    return { ok: false, problem: { status: 401, code: 'bad-key', title: 'Unknown intake key', detail: 'the key in the webhook URL does not match intake.key' } };
  }
  const contentType = request.header('content-type');
  if (!isJson(contentType)) {
    count('unsupported_media_type');
    return {
      ok: false,
      problem: { status: 415, code: 'unsupported-media-type', title: 'Body must be JSON', detail: `content-type was ${contentType ?? 'missing'}; send application/json` },
    };
  }
  const body = await request.readBody(deps.bodyLimitBytes);
  if (!body.ok) {
    count('too_large');
    return { ok: false, problem: { status: 413, code: 'body-too-large', title: 'Body too large', detail: `the limit is ${deps.bodyLimitBytes} bytes (server.bodyLimitBytes)` } };
  }
  const grafana = deps.intake.grafana;
  if (source === 'grafana' && grafana.hmacSecret) {
    const verdict = verifyGrafanaSignature({
      rawBody: body.bytes,
      signatureHeader: request.header(grafana.signatureHeader),
      timestampHeader: grafana.timestampHeader ? request.header(grafana.timestampHeader) : undefined,
      useTimestamp: Boolean(grafana.timestampHeader),
      secret: grafana.hmacSecret,
      maxSkewSeconds: grafana.maxSkewSeconds,
    });
    if (!verdict.ok) {
      count('unauthorized');
      return { ok: false, problem: { status: 401, code: 'bad-signature', title: 'Signature check failed', detail: verdict.reason } };
    }
  }
  const text = body.bytes.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    count('bad_request');
    return { ok: false, problem: { status: 400, code: 'malformed-json', title: 'Body is not valid JSON', detail: (error as Error).message } };
  }
  const parsed = parseWebhook(source as Source, json, text);
  if (!parsed.ok) {
    count('bad_request');
    return { ok: false, problem: { status: 400, code: 'invalid-payload', title: `Not a ${source} webhook payload this server accepts`, errors: parsed.errors } };
  }
  const results = await acceptNotification(deps, parsed.notification);
  count('accepted');
  return { ok: true, status: 202, body: JSON.stringify({ incidents: results.map(({ id, fingerprint, state }) => ({ id, fingerprint, state })) }) };
}

export function intakeRoutes(deps: IntakeRouteDeps): Hono {
  const app = new Hono();
  app.post('/hooks/:source/:key', async (c) => {
    // Under @hono/node-server the body and headers are read from Node's request directly: building the web
    // Request and reading its body through web streams was a measurable part of each delivery's cost.
    const incoming = untouchedIncoming(c.env);
    const answer = await answerWebhook(deps, {
      source: c.req.param('source'),
      key: c.req.param('key'),
      header: (name) => (incoming ? incomingHeader(incoming, name) : c.req.header(name)),
      readBody: (limit) => (incoming ? readIncomingLimited(incoming, limit) : readLimited(c.req.raw, limit)),
    });
    return answer.ok ? c.body(answer.body, answer.status, { 'content-type': 'application/json' }) : problem(c, answer.problem);
  });
  return app;
}

// Only plain paths: no query, percent-encoding or fragment, which Hono would strip or decode first.
const WEBHOOK_PATH = /^\/hooks\/([^/?#%]+)\/([^/?#%]+)$/;

/**
 * The webhook route straight on Node's request and response, for @hono/node-server's `createServer`: the
 * same answers as `intakeRoutes` and the app's error handler, without building a web Request, routing and
 * a web Response for every delivery (about a tenth of the service's CPU per one-alert delivery). Takes only
 * what it answers exactly as the app would: a POST to a plain webhook path with a Content-Length within the
 * limit (so the body is read whole or the connection fails). Returns false for anything else, untouched.
 */
export function intakeFastPath(deps: IntakeRouteDeps, log: Logger): (incoming: IncomingMessage, outgoing: ServerResponse) => boolean {
  return (incoming, outgoing) => {
    if (incoming.method !== 'POST' || incoming.headers['transfer-encoding'] !== undefined) return false;
    const declared = incoming.headers['content-length'];
    if (declared === undefined || !(Number(declared) <= deps.bodyLimitBytes)) return false;
    const path = incoming.url ?? '';
    const match = WEBHOOK_PATH.exec(path);
    if (!match) return false;
    const send = (status: number, contentType: string, body: string) => {
      outgoing.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
      outgoing.end(body);
    };
    const request: WebhookRequest = { source: match[1]!, key: match[2]!, header: (name) => incomingHeader(incoming, name), readBody: (limit) => readIncomingLimited(incoming, limit) };
    void answerWebhook(deps, request)
      .catch((error: unknown): WebhookAnswer => ({ ok: false, problem: problemForError(error, log) }))
      .then((answer) => (answer.ok ? send(answer.status, 'application/json', answer.body) : send(answer.problem.status, 'application/problem+json', problemJson(answer.problem, path))))
      .catch((error: unknown) => {
        // Nothing left to answer with (the connection went away while writing): never an unhandled rejection.
        log.error({ err: error }, 'could not write a webhook answer');
        outgoing.destroy();
      });
    return true;
  };
}
