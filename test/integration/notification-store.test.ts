import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditKeyFromSecret } from '../../src/audit/audit-key.js';
import { sealAllAuditEvents } from '../../src/audit/seal.js';
import { verifyAuditChain } from '../../src/audit/verify.js';
import { createPool, type Pool } from '../../src/database/database.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../src/database/embedded-postgres.js';
import { migrate } from '../../src/database/migrations.js';
import type { RoutedNotification } from '../../src/domain/incident.js';
import { freePort } from '../../src/eval/free-port.js';
import { createNotificationStore, type NotificationStore } from '../../src/store/notifications.js';

type RoutedAlert = RoutedNotification['alerts'][number];

const STARTS_AT = '2026-11-28T06:00:00.000Z';
const ROUTE = { route: 'agentic', mode: 'approve' } as const;

let dataDir: string;
let database: EmbeddedDatabase;
let pool: Pool;
let store: NotificationStore;

function firing(overrides: Partial<RoutedAlert> = {}): RoutedAlert {
  return {
    source: 'alertmanager',
    fingerprint: randomBytes(8).toString('hex'),
    status: 'firing',
    name: 'DiskFull',
    severity: 'warning',
    instance: 'db1:9100',
    labels: { alertname: 'DiskFull', instance: 'db1:9100', severity: 'warning' },
    annotations: { summary: 'disk almost full' },
    startsAt: STARTS_AT,
    endsAt: null,
    generatorURL: 'http://prometheus:9090/graph?g0.expr=up+%3D%3D+0',
    expression: 'up == 0',
    values: null,
    route: ROUTE,
    ...overrides,
  };
}

function resolvedOf(alert: RoutedAlert): RoutedAlert {
  return { ...alert, status: 'resolved', endsAt: '2026-11-28T06:10:00.000Z' };
}

function delivery(alerts: RoutedAlert[], source: RoutedNotification['source'] = 'alertmanager'): RoutedNotification {
  return { source, receiver: 'responder', groupKey: '{}:{alertname="DiskFull"}', truncatedAlerts: 0, alerts: alerts.map((a) => ({ ...a, source })) };
}

async function incidentsOf(fingerprint: string) {
  const result = await pool.query<{ id: string; state: string; open: boolean; state_reason: string | null; route: string | null; mode: string | null }>(
    'SELECT id, state, open, state_reason, route, mode FROM incidents WHERE fingerprint = $1 ORDER BY created_at',
    [fingerprint],
  );
  return result.rows;
}

async function notificationsOf(fingerprint: string) {
  const result = await pool.query<{ incident_id: string; status: string; deliveries: number; dedup_key: string; alert: Record<string, unknown> }>(
    'SELECT incident_id, status, deliveries, dedup_key, alert FROM alert_notifications WHERE fingerprint = $1 ORDER BY id',
    [fingerprint],
  );
  return result.rows;
}

async function auditOf(incidentId: string) {
  const result = await pool.query<{ actor: string; kind: string; data: Record<string, unknown> }>(
    'SELECT actor, kind, data FROM audit_events WHERE incident_id = $1 ORDER BY id',
    [incidentId],
  );
  return result.rows;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'responder-notifications-'));
  // The embedded PostgreSQL runs as the postgres user when tests run as root.
  chmodSync(dataDir, 0o755);
  database = await startEmbeddedDatabase({ dataDir, port: await freePort() });
  pool = createPool(database.url, 20);
  await migrate(pool);
  store = createNotificationStore(pool);
});

afterAll(async () => {
  await pool?.end();
  await database?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('grouping: one open incident per fingerprint', () => {
  it('a routed firing alert opens an incident the workflow should start on, audited as incident.opened', async () => {
    const alert = firing();
    const [result] = await store.record(delivery([alert]));
    expect(result).toMatchObject({ fingerprint: alert.fingerprint, state: 'received', startWorkflow: true });
    expect(await incidentsOf(alert.fingerprint)).toEqual([{ id: result!.id, state: 'received', open: true, state_reason: null, route: 'agentic', mode: 'approve' }]);
    const row = await pool.query('SELECT alert_name, severity, instance, labels, annotations, expression, source FROM incidents WHERE id = $1', [result!.id]);
    expect(row.rows[0]).toEqual({
      alert_name: 'DiskFull',
      severity: 'warning',
      instance: 'db1:9100',
      labels: alert.labels,
      annotations: alert.annotations,
      expression: 'up == 0',
      source: 'alertmanager',
    });
    expect(await auditOf(result!.id)).toEqual([
      { actor: 'webhook:alertmanager', kind: 'incident.opened', data: { fingerprint: alert.fingerprint, alert: 'DiskFull', route: 'agentic', mode: 'approve' } },
    ]);
    const [notification] = await notificationsOf(alert.fingerprint);
    const { route: _route, ...stored } = alert;
    expect(notification).toMatchObject({ incident_id: result!.id, status: 'firing', deliveries: 1, alert: stored });
  });

  it('an alert no route matches is stored and shown, not acted on', async () => {
    const alert = firing({ route: null });
    const [result] = await store.record(delivery([alert], 'grafana'));
    expect(result).toMatchObject({ state: 'received', startWorkflow: false });
    expect(await incidentsOf(alert.fingerprint)).toEqual([
      { id: result!.id, state: 'received', open: true, state_reason: 'no route matched: stored and shown, not acted on', route: null, mode: null },
    ]);
    expect(await auditOf(result!.id)).toEqual([
      { actor: 'webhook:grafana', kind: 'incident.opened', data: { fingerprint: alert.fingerprint, alert: 'DiskFull', route: null, mode: null } },
    ]);
  });

  it('the same notification delivered twice is one notification counted twice, audited once, and starts nothing the second time', async () => {
    const alert = firing();
    const [first] = await store.record(delivery([alert]));
    const [second] = await store.record(delivery([alert]));
    expect(second).toEqual({ id: first!.id, fingerprint: alert.fingerprint, state: 'received', startWorkflow: false });
    expect((await notificationsOf(alert.fingerprint)).map((n) => n.deliveries)).toEqual([2]);
    expect((await auditOf(first!.id)).map((e) => e.kind)).toEqual(['incident.opened']);
  });

  it('a re-sent firing with a new endsAt joins the open incident as a new notification, audited as alert.notification', async () => {
    const alert = firing();
    const [first] = await store.record(delivery([alert]));
    const [again] = await store.record(delivery([{ ...alert, endsAt: '2026-11-28T07:00:00.000Z' }]));
    expect(again).toMatchObject({ id: first!.id, startWorkflow: false });
    expect((await notificationsOf(alert.fingerprint)).map((n) => n.deliveries)).toEqual([1, 1]);
    expect((await auditOf(first!.id)).at(-1)).toEqual({
      actor: 'webhook:alertmanager',
      kind: 'alert.notification',
      data: { status: 'firing', startsAt: STARTS_AT, endsAt: '2026-11-28T07:00:00.000Z' },
    });
  });

  it('answers one result per alert in fingerprint order, whatever order the alerts came in', async () => {
    const prefix = randomBytes(4).toString('hex');
    const alerts = ['c', 'a', 'B', 'b'].map((s) => firing({ fingerprint: `${prefix}-${s}` }));
    const results = await store.record(delivery(alerts));
    expect(results.map((r) => r.fingerprint)).toEqual([`${prefix}-B`, `${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);
    expect(new Set(results.map((r) => r.id)).size).toBe(4);
  });

  it('a delivery of an empty alert list answers an empty list', async () => {
    expect(await store.record(delivery([]))).toEqual([]);
  });

  it('stores the notification under the dedup key earlier versions computed, so a retry across an upgrade is still a duplicate', async () => {
    const alert = firing({ endsAt: '2026-11-28T06:30:00.000Z', fingerprint: `fp-${randomBytes(4).toString('hex')}-é` });
    await store.record(delivery([alert]));
    const expected = createHash('sha256')
      .update(['alertmanager', alert.fingerprint, 'firing', alert.startsAt, alert.endsAt ?? ''].join('\u0000'))
      .digest('hex');
    expect((await notificationsOf(alert.fingerprint)).map((n) => n.dedup_key)).toEqual([expected]);
    const noEnd = firing();
    await store.record(delivery([noEnd]));
    const expectedNoEnd = createHash('sha256').update(['alertmanager', noEnd.fingerprint, 'firing', noEnd.startsAt, ''].join('\u0000')).digest('hex');
    expect((await notificationsOf(noEnd.fingerprint)).map((n) => n.dedup_key)).toEqual([expectedNoEnd]);
  });
});

describe('resolved notifications', () => {
  it('a resolve closes an incident nothing has been executed for, audited as incident.state', async () => {
    const alert = firing();
    const [opened] = await store.record(delivery([alert]));
    const [closed] = await store.record(delivery([resolvedOf(alert)]));
    expect(closed).toEqual({ id: opened!.id, fingerprint: alert.fingerprint, state: 'resolved', startWorkflow: false });
    expect(await incidentsOf(alert.fingerprint)).toMatchObject([{ state: 'resolved', open: false, state_reason: 'alert resolved before any remediation ran' }]);
    expect((await auditOf(opened!.id)).at(-1)).toEqual({
      actor: 'webhook:alertmanager',
      kind: 'incident.state',
      data: { from: 'received', to: 'resolved', reason: 'alert resolved before any remediation ran' },
    });
  });

  it('a resolve does not close an incident whose remediation is executing; it is recorded as alert.notification', async () => {
    const alert = firing();
    const [opened] = await store.record(delivery([alert]));
    await pool.query(`UPDATE incidents SET state = 'executing' WHERE id = $1`, [opened!.id]);
    const [after] = await store.record(delivery([resolvedOf(alert)]));
    expect(after).toMatchObject({ id: opened!.id, state: 'executing' });
    expect(await incidentsOf(alert.fingerprint)).toMatchObject([{ state: 'executing', open: true }]);
    expect((await auditOf(opened!.id)).at(-1)).toEqual({
      actor: 'webhook:alertmanager',
      kind: 'alert.notification',
      data: { status: 'resolved', startsAt: STARTS_AT, endsAt: '2026-11-28T06:10:00.000Z' },
    });
  });

  it('a resolve delivered twice closes once and audits once', async () => {
    const alert = firing();
    const [opened] = await store.record(delivery([alert]));
    await store.record(delivery([resolvedOf(alert)]));
    const [again] = await store.record(delivery([resolvedOf(alert)]));
    expect(again).toMatchObject({ id: opened!.id, state: 'resolved' });
    expect((await auditOf(opened!.id)).map((e) => e.kind)).toEqual(['incident.opened', 'incident.state']);
    expect((await notificationsOf(alert.fingerprint)).map((n) => [n.status, n.deliveries])).toEqual([
      ['firing', 1],
      ['resolved', 2],
    ]);
  });

  it('a resolve for an alert never seen firing keeps a closed record and starts nothing', async () => {
    const alert = resolvedOf(firing());
    const [result] = await store.record(delivery([alert]));
    expect(result).toMatchObject({ state: 'resolved', startWorkflow: false });
    expect(await incidentsOf(alert.fingerprint)).toMatchObject([
      { id: result!.id, state: 'resolved', open: false, state_reason: 'resolved notification for an alert never seen firing', route: null },
    ]);
    expect(await auditOf(result!.id)).toEqual([
      { actor: 'webhook:alertmanager', kind: 'incident.opened', data: { fingerprint: alert.fingerprint, alert: 'DiskFull', status: 'resolved' } },
    ]);
  });

  it('a resolve with nothing open attaches to the latest incident of its fingerprint', async () => {
    const alert = firing();
    const [opened] = await store.record(delivery([alert]));
    await pool.query(`UPDATE incidents SET state = 'diagnosed', open = false WHERE id = $1`, [opened!.id]);
    const [result] = await store.record(delivery([resolvedOf(alert)]));
    expect(result).toMatchObject({ id: opened!.id, state: 'diagnosed' });
    expect(await incidentsOf(alert.fingerprint)).toHaveLength(1);
    expect((await auditOf(opened!.id)).at(-1)).toMatchObject({ kind: 'alert.notification', data: { status: 'resolved' } });
  });
});

describe('late duplicates', () => {
  it('a late duplicate of a firing notification after its resolve attaches to the resolved incident and changes nothing', async () => {
    const alert = firing();
    const [opened] = await store.record(delivery([alert]));
    await store.record(delivery([resolvedOf(alert)]));
    const auditBefore = await auditOf(opened!.id);

    const [late] = await store.record(delivery([alert]));

    expect(late).toEqual({ id: opened!.id, fingerprint: alert.fingerprint, state: 'resolved', startWorkflow: false });
    expect(await incidentsOf(alert.fingerprint)).toMatchObject([{ id: opened!.id, state: 'resolved', open: false }]);
    expect((await notificationsOf(alert.fingerprint)).map((n) => [n.incident_id, n.status, n.deliveries])).toEqual([
      [opened!.id, 'firing', 2],
      [opened!.id, 'resolved', 1],
    ]);
    expect(await auditOf(opened!.id)).toEqual(auditBefore);
  });

  it('a late duplicate after the incident ended some other way (denied) attaches to it and opens nothing', async () => {
    const alert = firing();
    const [opened] = await store.record(delivery([alert]));
    await pool.query(`UPDATE incidents SET state = 'denied', open = false WHERE id = $1`, [opened!.id]);
    const [late] = await store.record(delivery([alert]));
    expect(late).toEqual({ id: opened!.id, fingerprint: alert.fingerprint, state: 'denied', startWorkflow: false });
    expect(await incidentsOf(alert.fingerprint)).toHaveLength(1);
  });

  it('the same fingerprint firing again with a new startsAt after the incident closed opens a new incident', async () => {
    const alert = firing();
    const [first] = await store.record(delivery([alert]));
    await store.record(delivery([resolvedOf(alert)]));
    const [second] = await store.record(delivery([{ ...alert, startsAt: '2026-11-28T08:00:00.000Z' }]));
    expect(second).toMatchObject({ state: 'received', startWorkflow: true });
    expect(second!.id).not.toBe(first!.id);
    expect((await incidentsOf(alert.fingerprint)).map((i) => [i.id, i.state, i.open])).toEqual([
      [first!.id, 'resolved', false],
      [second!.id, 'received', true],
    ]);
  });

  it('a late duplicate arriving after a newer incident opened for the fingerprint still attaches to its own incident', async () => {
    const alert = firing();
    const [first] = await store.record(delivery([alert]));
    await store.record(delivery([resolvedOf(alert)]));
    const [second] = await store.record(delivery([{ ...alert, startsAt: '2026-11-28T08:00:00.000Z' }]));
    const [late] = await store.record(delivery([alert]));
    expect(late).toMatchObject({ id: first!.id, state: 'resolved', startWorkflow: false });
    expect((await incidentsOf(alert.fingerprint)).map((i) => [i.id, i.state])).toEqual([
      [first!.id, 'resolved'],
      [second!.id, 'received'],
    ]);
  });

  it('a late duplicate inside a group with a new alert: the duplicate attaches, the new alert opens', async () => {
    const old = firing();
    const [opened] = await store.record(delivery([old]));
    await store.record(delivery([resolvedOf(old)]));
    const fresh = firing();
    const results = await store.record(delivery([old, fresh]));
    const byFingerprint = Object.fromEntries(results.map((r) => [r.fingerprint, r]));
    expect(byFingerprint[old.fingerprint]).toMatchObject({ id: opened!.id, state: 'resolved', startWorkflow: false });
    expect(byFingerprint[fresh.fingerprint]).toMatchObject({ state: 'received', startWorkflow: true });
  });
});

describe('one delivery, one statement, one transaction', () => {
  it('a delivery of 100 alerts reaches the database as one query', async () => {
    let queries = 0;
    const counting = new Proxy(pool, {
      get(target, property, receiver) {
        if (property === 'query') {
          return (...args: Parameters<Pool['query']>) => {
            queries += 1;
            return (target.query as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const alerts = Array.from({ length: 100 }, () => firing());
    const results = await createNotificationStore(counting).record(delivery(alerts));
    expect(results).toHaveLength(100);
    expect(queries).toBe(1);
  });

  it('a delivery with one alert the database refuses stores none of its alerts', async () => {
    const good = firing({ fingerprint: `a-${randomBytes(4).toString('hex')}` });
    // alert_name is NOT NULL: an alert without a name fails after the good one (fingerprint order) was written.
    const bad = { ...firing({ fingerprint: `z-${randomBytes(4).toString('hex')}` }), name: undefined } as unknown as RoutedAlert;
    await expect(store.record(delivery([good, bad]))).rejects.toMatchObject({ code: '23502' });
    expect(await incidentsOf(good.fingerprint)).toEqual([]);
    expect(await notificationsOf(good.fingerprint)).toEqual([]);
  });

  it('concurrent deliveries of overlapping groups all commit, one incident per fingerprint, each opened and audited once', async () => {
    const prefix = randomBytes(4).toString('hex');
    const fingerprints = Array.from({ length: 12 }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
    // Each delivery carries an overlapping window of fingerprints, half of them in reverse order.
    const deliveries = Array.from({ length: 24 }, (_, d) => {
      const window = fingerprints.slice(d % 6, (d % 6) + 7).map((fingerprint) => firing({ fingerprint, endsAt: `2026-11-28T07:00:${String(d).padStart(2, '0')}.000Z` }));
      return delivery(d % 2 ? window.reverse() : window);
    });
    const answers = await Promise.all(deliveries.map((d) => store.record(d)));
    const idsByFingerprint = new Map<string, Set<string>>();
    for (const result of answers.flat()) {
      if (!idsByFingerprint.has(result.fingerprint)) idsByFingerprint.set(result.fingerprint, new Set());
      idsByFingerprint.get(result.fingerprint)!.add(result.id);
    }
    expect(idsByFingerprint.size).toBe(12);
    for (const ids of idsByFingerprint.values()) expect(ids.size).toBe(1);
    expect(answers.flat().filter((r) => r.startWorkflow)).toHaveLength(12);
    const opened = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_events e JOIN incidents i ON i.id = e.incident_id WHERE i.fingerprint LIKE $1 AND e.kind = 'incident.opened'`,
      [`${prefix}-%`],
    );
    expect(opened.rows[0]!.n).toBe(12);
    const incidents = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents WHERE fingerprint LIKE $1', [`${prefix}-%`]);
    expect(incidents.rows[0]!.n).toBe(12);
  });

  it('deliveries that arrive together go in one statement, each answered with its own results', async () => {
    let queries = 0;
    const counting = new Proxy(pool, {
      get(target, property, receiver) {
        if (property === 'query') {
          return (...args: Parameters<Pool['query']>) => {
            queries += 1;
            return (target.query as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const grouped = createNotificationStore(counting, { maxInFlight: 1 });
    const alerts = Array.from({ length: 20 }, () => firing());
    const answers = await Promise.all(alerts.map((alert) => grouped.record(delivery([alert]))));
    expect(answers.map((results) => results.map((r) => r.fingerprint))).toEqual(alerts.map((alert) => [alert.fingerprint]));
    expect(answers.flat().every((r) => r.state === 'received' && r.startWorkflow)).toBe(true);
    expect(queries).toBe(1);
    for (const alert of alerts) expect(await incidentsOf(alert.fingerprint)).toHaveLength(1);
    // Those that arrive while a statement runs go together in the next one.
    queries = 0;
    const first = grouped.record(delivery([firing()]));
    await new Promise((resolve) => setImmediate(resolve));
    const later = await Promise.all(Array.from({ length: 5 }, () => grouped.record(delivery([firing()]))));
    await first;
    expect(later.flat()).toHaveLength(5);
    expect(queries).toBe(2);
  });

  it('when a shared statement fails, each of its deliveries is stored again alone: the refused one gets its error, the others commit', async () => {
    const grouped = createNotificationStore(pool, { maxInFlight: 1 });
    const good = [firing(), firing(), firing()];
    const bad = { ...firing(), name: undefined } as unknown as RoutedAlert;
    const outcomes = await Promise.allSettled([good[0]!, bad, good[1]!, good[2]!].map((alert) => grouped.record(delivery([alert]))));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: '23502' });
    for (const alert of good) expect(await incidentsOf(alert.fingerprint)).toHaveLength(1);
    expect(await incidentsOf(bad.fingerprint)).toEqual([]);
  });

  it('deliveries of one fingerprint sent at once are stored one after the other, in the order they came', async () => {
    const grouped = createNotificationStore(pool, { maxInFlight: 2 });
    const alert = firing();
    const again = { ...alert, startsAt: '2026-11-28T08:00:00.000Z' };
    const other = firing();
    const [opened, , closed, reopened] = await Promise.all([
      grouped.record(delivery([alert])),
      grouped.record(delivery([other])),
      grouped.record(delivery([resolvedOf(alert)])),
      grouped.record(delivery([again])),
    ]);
    expect(opened![0]).toMatchObject({ state: 'received', startWorkflow: true });
    expect(closed![0]).toMatchObject({ id: opened![0]!.id, state: 'resolved' });
    expect(reopened![0]).toMatchObject({ state: 'received', startWorkflow: true });
    expect(reopened![0]!.id).not.toBe(opened![0]!.id);
    const rows = await pool.query<{ id: string; created_at: string }>('SELECT id, created_at FROM incidents WHERE fingerprint = $1 ORDER BY created_at', [alert.fingerprint]);
    expect(rows.rows.map((r) => r.id)).toEqual([opened![0]!.id, reopened![0]!.id]);
    expect(rows.rows[0]!.created_at < rows.rows[1]!.created_at).toBe(true);
  });

  it('the events it writes unsealed seal onto one unbroken chain', async () => {
    const key = auditKeyFromSecret(randomBytes(32));
    await sealAllAuditEvents(pool, key);
    expect(await verifyAuditChain(pool, { keys: [key] })).toMatchObject({ ok: true, unsealed: 0 });
  });
});
