import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { plainAuditHash, GENESIS_HASH } from '../../src/audit/audit-hash.js';
import { auditKeyFromSecret } from '../../src/audit/audit-key.js';
import { appendAuditEvent } from '../../src/audit/audit-store.js';
import { ChainEventSchema } from '../../src/audit/chain-entry.js';
import type { IncidentAuditSummary } from '../../src/audit/incident-summary.js';
import { createLokiPusher } from '../../src/audit/loki-push.js';
import { lokiShippingLag, shipNextBatch, type LokiShipperOptions } from '../../src/audit/loki-shipper.js';
import { sealAllAuditEvents } from '../../src/audit/seal.js';
import { verifyAuditChain } from '../../src/audit/verify.js';
import type { Pool } from '../../src/database/database.js';
import { startFakeLoki, type FakeLoki } from '../../src/testing/fake-loki.js';
import { startTestDatabase, type TestDatabase } from '../support/test-database.js';

const key = auditKeyFromSecret(randomBytes(32));
let database: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  database = await startTestDatabase('audit-store');
  pool = database.pool;
});

afterAll(async () => database?.stop());

async function append(kind: string, data: Record<string, unknown> = {}, incidentId: string | null = randomUUID()): Promise<void> {
  await appendAuditEvent(pool, { incidentId, actor: 'responder', kind, data });
}

async function head(): Promise<number> {
  return (await pool.query<{ head: number | null }>('SELECT max(seq) AS head FROM audit_events')).rows[0]!.head ?? 0;
}

describe('the keyed chain in the database', () => {
  it('still verifies events sealed with the plain hash before the upgrade, and seals new ones with the key', async () => {
    // Sealed as the previous release did: plain SHA-256, no key id.
    for (const step of [1, 2, 3]) await append('legacy.event', { step });
    const rows = await pool.query<{ id: number; incident_id: string; at: string; actor: string; kind: string; data: Record<string, never> }>('SELECT * FROM audit_events WHERE seq IS NULL ORDER BY id');
    let prevHash = GENESIS_HASH;
    for (const [index, row] of rows.rows.entries()) {
      const hash = plainAuditHash({ id: row.id, incidentId: row.incident_id, at: row.at, actor: row.actor, kind: row.kind, data: row.data, seq: index + 1, prevHash });
      await pool.query('UPDATE audit_events SET seq = $2, prev_hash = $3, hash = $4 WHERE id = $1', [row.id, index + 1, prevHash, hash]);
      prevHash = hash;
    }
    await append('incident.opened');
    await append('incident.state', { from: 'received', to: 'investigating' });
    expect(await sealAllAuditEvents(pool, key)).toBe(2);

    const keyIds = await pool.query<{ key_id: string | null }>('SELECT key_id FROM audit_events ORDER BY seq');
    expect(keyIds.rows.map((r) => r.key_id)).toEqual([null, null, null, key.id, key.id]);
    expect(await verifyAuditChain(pool, { keys: [key] })).toMatchObject({ ok: true, events: 5, plain: 3, keyed: 2, unsealed: 0 });
  });

  it('lets the sealer set the key id once; nobody can change it afterwards', async () => {
    await expect(pool.query(`UPDATE audit_events SET key_id = NULL WHERE seq = 4`)).rejects.toThrow(/append-only/);
    await expect(pool.query(`UPDATE audit_events SET key_id = 'other' WHERE seq = 1`)).rejects.toThrow(/append-only/);
  });
});

describe('shipping the chain to Loki', () => {
  let loki: FakeLoki;
  const summaries: string[] = [];
  const options = (overrides: Partial<LokiShipperOptions> = {}): LokiShipperOptions => ({
    pool,
    key,
    pusher: createLokiPusher({ url: loki.url, timeoutMs: 2000 }),
    summarize: async (incidentId) => {
      summaries.push(incidentId);
      return { record: 'INCIDENT_AUDIT', incident_id: incidentId, alert: 'DiskFull', state: 'diagnosed' } as IncidentAuditSummary;
    },
    batchSize: 100,
    maxBackoffMs: 100,
    log: { info: () => {}, warn: () => {}, error: () => {} },
    ...overrides,
  });

  beforeEach(async () => {
    await loki?.close();
    loki = await startFakeLoki({ rejectOlderThanMs: 3_600_000 });
    await sealAllAuditEvents(pool, key);
    await pool.query(`INSERT INTO audit_shipping (destination, shipped_seq) VALUES ('loki', $1) ON CONFLICT (destination) DO UPDATE SET shipped_seq = $1`, [await head()]);
  });
  afterAll(() => loki?.close());

  it('keeps the events while Loki is down, then ships them in seq order with labels, metadata, a summary and an anchor', async () => {
    const incident = randomUUID();
    await append('incident.opened', { alert: 'DiskFull' }, incident);
    await append('incident.state', { from: 'investigating', to: 'diagnosed' }, incident);
    await append('config.changed', {}, null);
    await sealAllAuditEvents(pool, key);
    const before = await head();
    const shippedBefore = before - 3;

    loki.setOutage(503);
    expect(await shipNextBatch(options(), { structuredMetadata: true })).toMatchObject({ kind: 'unavailable', status: 503 });
    expect(await lokiShippingLag(pool)).toMatchObject({ events: 3 });
    expect((await lokiShippingLag(pool)).seconds).toBeGreaterThanOrEqual(0);

    loki.setOutage(null);
    expect(await shipNextBatch(options(), { structuredMetadata: true })).toEqual({ kind: 'shipped', events: 3, lastSeq: before, more: false });
    expect(await lokiShippingLag(pool)).toEqual({ events: 0, seconds: 0 });
    const entries = loki.entries();
    const events = entries.filter((e) => !['incident.summary', 'audit.anchor'].includes(e.stream.kind!));
    expect(events.map((e) => Number(e.metadata.seq))).toEqual([shippedBefore + 1, shippedBefore + 2, shippedBefore + 3]);
    expect(events.map((e) => e.stream)).toEqual([
      { service_name: 'responder', kind: 'incident.opened' },
      { service_name: 'responder', kind: 'incident.state' },
      { service_name: 'responder', kind: 'config.changed' },
    ]);
    expect(events.map((e) => e.metadata.incident_id)).toEqual([incident, incident, undefined]);
    for (const event of events) expect(ChainEventSchema.parse(JSON.parse(event.line))).toMatchObject({ seq: Number(event.metadata.seq), keyId: key.id });

    const summary = entries.filter((e) => e.stream.kind === 'incident.summary');
    expect(summary).toHaveLength(1);
    expect(JSON.parse(summary[0]!.line)).toMatchObject({ record: 'INCIDENT_AUDIT', incident_id: incident, seq: shippedBefore + 2 });
    expect(summary[0]!.metadata).toEqual({ incident_id: incident, seq: String(shippedBefore + 2) });
    const anchors = entries.filter((e) => e.stream.kind === 'audit.anchor').map((e) => JSON.parse(e.line) as { seq: number; keyId: string });
    expect(anchors).toEqual([expect.objectContaining({ type: 'anchor', seq: before, keyId: key.id })]);
    expect(await shipNextBatch(options(), { structuredMetadata: true })).toEqual({ kind: 'idle' });
  });

  it('ships in batches of batchSize, the next one from where the last stopped', async () => {
    for (let i = 0; i < 5; i += 1) await append('bulk.event', { i });
    await sealAllAuditEvents(pool, key);
    const first = await shipNextBatch(options({ batchSize: 2 }), { structuredMetadata: true });
    expect(first).toMatchObject({ kind: 'shipped', events: 2, more: true });
    expect(await lokiShippingLag(pool)).toMatchObject({ events: 3 });
    await shipNextBatch(options({ batchSize: 2 }), { structuredMetadata: true });
    expect(await shipNextBatch(options({ batchSize: 2 }), { structuredMetadata: true })).toMatchObject({ kind: 'shipped', events: 1, more: false });
    expect(loki.entries().filter((e) => e.stream.kind === 'bulk.event').map((e) => JSON.parse(e.line).data.i)).toEqual([0, 1, 2, 3, 4]);
  });

  it('moves past a batch Loki refuses for good (too old), and records on the chain which events it gave up on', async () => {
    await pool.query(`INSERT INTO audit_events (incident_id, at, actor, kind, data) VALUES (NULL, now() - interval '2 hours', 'responder', 'old.event', '{}')`);
    await append('fresh.event');
    await sealAllAuditEvents(pool, key);
    const last = await head();
    const refused = await shipNextBatch(options(), { structuredMetadata: true });
    expect(refused).toMatchObject({ kind: 'refused', fromSeq: last - 1, toSeq: last, status: 400, message: expect.stringMatching(/too old/) });
    expect(loki.entries().map((e) => e.stream.kind)).toContain('fresh.event');
    expect(loki.entries().map((e) => e.stream.kind)).not.toContain('old.event');

    const recorded = await pool.query<{ data: Record<string, unknown> }>(`SELECT data FROM audit_events WHERE kind = 'audit.shipping.refused' ORDER BY id DESC LIMIT 1`);
    expect(recorded.rows[0]!.data).toMatchObject({ destination: 'loki', fromSeq: last - 1, toSeq: last, status: 400 });
    await sealAllAuditEvents(pool, key);
    expect(await shipNextBatch(options(), { structuredMetadata: true })).toMatchObject({ kind: 'shipped', events: 1 });
    expect(loki.entries().map((e) => e.stream.kind)).toContain('audit.shipping.refused');
  });

  it('falls back to lines without structured metadata when Loki refuses it', async () => {
    await loki.close();
    loki = await startFakeLoki({ structuredMetadata: false });
    await append('some.event');
    await sealAllAuditEvents(pool, key);
    const state = { structuredMetadata: true };
    expect(await shipNextBatch(options(), state)).toEqual({ kind: 'retry' });
    expect(state.structuredMetadata).toBe(false);
    expect(await shipNextBatch(options(), state)).toMatchObject({ kind: 'shipped', events: 1 });
    expect(loki.entries().find((e) => e.stream.kind === 'some.event')?.metadata).toEqual({});
  });
});
