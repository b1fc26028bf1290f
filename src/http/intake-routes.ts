import { Hono } from 'hono';
import type { Config } from '../config/config.schema.js';
import { safeEqualStrings, verifyGrafanaSignature } from '../ingest/grafana-signature.js';
import { acceptNotification, parseWebhook, SOURCES, type IntakeDeps, type Source } from '../ingest/intake.js';
import type { Metrics } from './metrics.js';
import { problem } from './problem.js';
import { incomingHeader, readIncomingLimited, readLimited, untouchedIncoming } from './read-body.js';

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

export function intakeRoutes(deps: IntakeRouteDeps): Hono {
  const app = new Hono();
  app.post('/hooks/:source/:key', async (c) => {
    // Under @hono/node-server the body and headers are read from Node's request directly: building the web
    // Request and reading its body through web streams was a measurable part of each delivery's cost.
    const incoming = untouchedIncoming(c.env);
    const header = (name: string) => (incoming ? incomingHeader(incoming, name) : c.req.header(name));
    const source = c.req.param('source');
    if (!SOURCES.includes(source as Source)) {
      return problem(c, { status: 404, code: 'unknown-source', title: 'Unknown alert source', detail: `use one of: ${SOURCES.join(', ')}` });
    }
    const count = (outcome: string) => deps.metrics.webhookRequests.inc({ source, outcome });
    if (!safeEqualStrings(c.req.param('key'), deps.intake.key)) {
      count('unauthorized');
      return problem(c, { status: 401, code: 'bad-key', title: 'Unknown intake key', detail: 'the key in the webhook URL does not match intake.key' });
    }
    const contentType = header('content-type');
    if (!isJson(contentType)) {
      count('unsupported_media_type');
      return problem(c, { status: 415, code: 'unsupported-media-type', title: 'Body must be JSON', detail: `content-type was ${contentType ?? 'missing'}; send application/json` });
    }
    const body = incoming ? await readIncomingLimited(incoming, deps.bodyLimitBytes) : await readLimited(c.req.raw, deps.bodyLimitBytes);
    if (!body.ok) {
      count('too_large');
      return problem(c, { status: 413, code: 'body-too-large', title: 'Body too large', detail: `the limit is ${deps.bodyLimitBytes} bytes (server.bodyLimitBytes)` });
    }
    const grafana = deps.intake.grafana;
    if (source === 'grafana' && grafana.hmacSecret) {
      const verdict = verifyGrafanaSignature({
        rawBody: body.bytes,
        signatureHeader: header(grafana.signatureHeader),
        timestampHeader: grafana.timestampHeader ? header(grafana.timestampHeader) : undefined,
        useTimestamp: Boolean(grafana.timestampHeader),
        secret: grafana.hmacSecret,
        maxSkewSeconds: grafana.maxSkewSeconds,
      });
      if (!verdict.ok) {
        count('unauthorized');
        return problem(c, { status: 401, code: 'bad-signature', title: 'Signature check failed', detail: verdict.reason });
      }
    }
    const text = body.bytes.toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      count('bad_request');
      return problem(c, { status: 400, code: 'malformed-json', title: 'Body is not valid JSON', detail: (error as Error).message });
    }
    const parsed = parseWebhook(source as Source, json, text);
    if (!parsed.ok) {
      count('bad_request');
      return problem(c, { status: 400, code: 'invalid-payload', title: `Not a ${source} webhook payload this server accepts`, errors: parsed.errors });
    }
    const results = await acceptNotification(deps, parsed.notification);
    count('accepted');
    return c.json({ incidents: results.map(({ id, fingerprint, state }) => ({ id, fingerprint, state })) }, 202);
  });
  return app;
}
