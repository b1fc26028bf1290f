import { rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateAuditKey } from '../../src/audit/audit-key.js';
import { startAuditSealer, type AuditSealer } from '../../src/audit/seal.js';
import { createPool, type Pool } from '../../src/database/database.js';
import { startEmbeddedDatabase } from '../../src/database/embedded-postgres.js';
import { migrate } from '../../src/database/migrations.js';
import type { IncidentState } from '../../src/domain/incident.js';
import { freePort } from '../../src/eval/free-port.js';
import type { NoticeKind } from '../../src/notify/incident-notice.js';
import { startNotifications, type Notifications, type NotifySettings } from '../../src/notify/start-notifications.js';
import { createIncidentStore } from '../../src/store/incidents.js';
import { createOutboxStore } from '../../src/store/outbox.js';
import { waitFor } from '../support/matrix-world.js';
import { makeDataDir } from '../support/responder-harness.js';
import { storeFiringIncident } from '../support/stored-incident.js';
import { stubHttpServers } from '../support/stub-http-server.js';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

const log = pino({ level: 'silent' });
const ALL: NoticeKind[] = ['incident-started', 'policy-denied', 'approval-requested', 'approval-expired', 'result', 'error'];

describe('notifications: Slack-compatible webhooks and ntfy, through the outbox', () => {
  let dataDir: string;
  let database: Awaited<ReturnType<typeof startEmbeddedDatabase>>;
  let pool: Pool;
  let sealer: AuditSealer;
  let running: Notifications | null = null;
  const stubs = stubHttpServers();
  const incidents = () => createIncidentStore(pool);
  const outbox = () => createOutboxStore(pool);

  beforeAll(async () => {
    dataDir = makeDataDir();
    database = await startEmbeddedDatabase({ dataDir, port: await freePort() });
    pool = createPool(database.url, 5);
    await migrate(pool);
    sealer = startAuditSealer(pool, loadOrCreateAuditKey({ dataDir }).key, { intervalMs: 50 });
  });
  afterEach(async () => {
    await running?.stop();
    running = null;
    await stubs.stopAll();
  });
  afterAll(async () => {
    await sealer.stop();
    await pool.end();
    await database.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A receiver that records what it got, answering with `statuses` in turn (then 200). */
  async function receiver(statuses: number[] = []): Promise<{ url: string; got: Received[] }> {
    const got: Received[] = [];
    const url = await stubs.start((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString()));
      request.on('end', () => {
        const status = statuses.shift() ?? 200;
        if (status === 200) got.push({ path: request.url ?? '', headers: request.headers, body: JSON.parse(text) as Record<string, unknown> });
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(status === 200 ? '{"id":"ok"}' : '{"error":"nope"}');
      });
    });
    return { url, got };
  }

  function start(settings: Partial<NotifySettings>) {
    running = startNotifications({
      pool,
      outbox: outbox(),
      incidents: incidents(),
      settings: { webhooks: [], ntfy: [], maxBackoffMs: 300, publicUrl: 'https://responder.example.org', pollMs: 100, ...settings },
      subscribers: [],
      log,
    });
    return running;
  }

  async function incident(name = 'DiskFull', path: IncidentState[] = ['investigating']): Promise<string> {
    const id = await storeFiringIncident(pool, { name, severity: 'critical', receiver: 'notify-test' });
    let from: IncidentState = 'received';
    for (const to of path) {
      await incidents().transition(id, { from: [from], to, actor: 'notify-test', reason: to === 'resolved' ? 'the alert condition cleared after the remediation' : undefined });
      from = to;
    }
    return id;
  }

  it('tells a webhook and an ntfy topic about a started incident and its result, each once, with a link', async () => {
    const hook = await receiver();
    const ntfy = await receiver();
    start({ webhooks: [{ name: 'chat', url: `${hook.url}/hooks/abc`, events: ALL }], ntfy: [{ name: 'phone', url: `${ntfy.url}/responder-oncall`, token: 'tk_secret', priority: 3, events: ALL }] });
    const id = await incident('DiskFull', ['investigating', 'proposed', 'approved', 'executing', 'verifying', 'resolved']);
    await waitFor('two webhook messages', async () => hook.got.length >= 2 && ntfy.got.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(hook.got.map((r) => r.body.text)).toEqual([
      `🔎 [Responder] DiskFull on web1: Responder is investigating (severity critical) — https://responder.example.org/incidents/${id}`,
      `📋 [Responder] DiskFull on web1: Resolved (verified): the alert condition cleared after the remediation — https://responder.example.org/incidents/${id}`,
    ]);
    expect(hook.got[0]!.path).toBe('/hooks/abc');
    expect(ntfy.got).toHaveLength(2);
    expect(ntfy.got[0]!.path).toBe('/');
    expect(ntfy.got[0]!.headers.authorization).toBe('Bearer tk_secret');
    expect(ntfy.got[1]!.body).toEqual({
      topic: 'responder-oncall',
      title: 'Responder: DiskFull on web1',
      message: 'Resolved (verified): the alert condition cleared after the remediation',
      priority: 3,
      tags: ['result'],
      click: `https://responder.example.org/incidents/${id}`,
    });
  });

  it('sends only the events a channel asks for, and an expired approval at ntfy priority 5', async () => {
    const hook = await receiver();
    const ntfy = await receiver();
    start({ webhooks: [{ name: 'results', url: hook.url, events: ['result'] }], ntfy: [{ name: 'pager', url: `${ntfy.url}/pager`, priority: 2, events: ['approval-expired'] }] });
    await incident('Quiet', ['investigating', 'proposed', 'awaiting_approval', 'expired']);
    await waitFor('the expiry push', async () => ntfy.got.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(hook.got).toEqual([]);
    expect(ntfy.got).toHaveLength(1);
    expect(ntfy.got[0]!.body).toMatchObject({ priority: 5, tags: ['approval-expired'], title: 'Responder: Quiet on web1' });
  });

  it('shows hostile alert text as text: no Slack <!channel>, no link markup, no @all', async () => {
    const hook = await receiver();
    start({ webhooks: [{ name: 'chat', url: hook.url, events: ['incident-started'] }] });
    await incident('<!channel> <https://evil.example|click> @all');
    await waitFor('the message', async () => hook.got.length >= 1);
    const text = String(hook.got[0]!.body.text);
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<https://evil.example|click>');
    expect(text).not.toContain('@all');
    expect(text).toContain('&lt;!channel&gt; &lt;https://evil.example|click&gt; @\u2060all');
  });

  it('keeps a message while the receiver is down and delivers it once, later; its lag shows meanwhile', async () => {
    const hook = await receiver([503, 503, 503]);
    start({ webhooks: [{ name: 'flaky', url: hook.url, events: ['incident-started'] }] });
    const id = await incident('Flaky');
    await waitFor('a pending message in the outbox', async () => (await outbox().lag()).find((l) => l.channel === 'webhook:flaky' && l.pending === 1));
    await waitFor('the delivery after the receiver came back', async () => hook.got.length === 1, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(hook.got).toHaveLength(1);
    expect(String(hook.got[0]!.body.text)).toContain(id);
    expect((await outbox().lag()).find((l) => l.channel === 'webhook:flaky')).toBeUndefined();
    const { rows } = await pool.query<{ attempts: number }>("SELECT attempts FROM outbox WHERE channel = 'webhook:flaky'");
    expect(rows[0]!.attempts).toBe(4);
  });

  it('gives up on a message the receiver refuses (400) and goes on with the next', async () => {
    const hook = await receiver([400]);
    start({ webhooks: [{ name: 'strict', url: hook.url, events: ['incident-started'] }] });
    await incident('First');
    await waitFor('the refusal recorded', async () => (await pool.query("SELECT 1 FROM outbox WHERE channel = 'webhook:strict' AND failed_at IS NOT NULL")).rowCount === 1);
    await incident('Second');
    await waitFor('the next message', async () => hook.got.length === 1);
    expect(String(hook.got[0]!.body.text)).toContain('Second on web1');
  });

  it('prunes old delivered and refused messages, never one still waiting', async () => {
    await pool.query(`INSERT INTO outbox (channel, dedupe_key, payload, delivered_at) VALUES ('webhook:old', 'old-delivered', '{}', now() - interval '40 days')`);
    await pool.query(`INSERT INTO outbox (channel, dedupe_key, payload, failed_at) VALUES ('webhook:old', 'old-refused', '{}', now() - interval '31 days')`);
    await pool.query(`INSERT INTO outbox (channel, dedupe_key, payload, created_at) VALUES ('webhook:old', 'old-pending', '{}', now() - interval '40 days')`);
    await pool.query(`INSERT INTO outbox (channel, dedupe_key, payload, delivered_at) VALUES ('webhook:old', 'recent', '{}', now() - interval '2 days')`);
    expect(await outbox().prune(30)).toBe(2);
    const { rows } = await pool.query<{ dedupe_key: string }>("SELECT dedupe_key FROM outbox WHERE channel = 'webhook:old' ORDER BY id");
    expect(rows.map((r) => r.dedupe_key)).toEqual(['old-pending', 'recent']);
    await pool.query("DELETE FROM outbox WHERE channel = 'webhook:old'");
  });

  it('tells nothing twice after a restart, and nothing that happened before the first start', async () => {
    await incident('BeforeAnything');
    // The notify position exists from the earlier tests; a fresh install is shown by removing it.
    await pool.query("DELETE FROM audit_shipping WHERE destination = 'notify'");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const hook = await receiver();
    start({ webhooks: [{ name: 'restart', url: hook.url, events: ['incident-started'] }] });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(hook.got).toEqual([]);
    await incident('AfterStart');
    await waitFor('the message', async () => hook.got.length === 1);
    await running!.stop();
    start({ webhooks: [{ name: 'restart', url: hook.url, events: ['incident-started'] }] });
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(hook.got.map((r) => String(r.body.text).split(':')[0])).toEqual(['🔎 [Responder] AfterStart on web1']);
  });
});
