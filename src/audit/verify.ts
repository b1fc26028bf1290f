import type { Pool } from '../database/database.js';
import type { JsonValue } from '../domain/json-value.js';
import type { SourcedAnchor } from './anchors.js';
import { createKeyring, type AuditKey, type AuditKeyring } from './audit-key.js';
import type { ChainEvent } from './chain-entry.js';
import { verifyChainEntries, type ChainReport } from './verify-chain.js';

export type AuditVerification = ChainReport & { unsealed: number };

/** A row of audit_events as the chain readers (verify, the Loki shipper) select it. */
export interface ChainRow {
  id: number;
  seq: number;
  incident_id: string | null;
  at: string;
  actor: string;
  kind: string;
  data: JsonValue;
  prev_hash: string | null;
  hash: string | null;
  key_id: string | null;
}

/** A row as verify sees it: taken as it is, so a row someone damaged is reported as altered rather than crashing the walk. */
export function chainEventFromRow(row: ChainRow): ChainEvent {
  return {
    type: 'event',
    seq: row.seq,
    id: row.id,
    incidentId: row.incident_id,
    at: row.at,
    actor: row.actor,
    kind: row.kind,
    data: row.data,
    prevHash: row.prev_hash ?? '',
    hash: row.hash ?? '',
    keyId: row.key_id,
  };
}

/** The sealed events in seq order, a page at a time. */
export async function* sealedEvents(pool: Pool, options: { fromSeq?: number; pageSize?: number } = {}): AsyncGenerator<ChainEvent> {
  const pageSize = options.pageSize ?? 5000;
  let from = options.fromSeq ?? 1;
  for (;;) {
    const page = await pool.query<ChainRow>(
      'SELECT id, seq, incident_id, at, actor, kind, data, prev_hash, hash, key_id FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT $2',
      [from, pageSize],
    );
    for (const row of page.rows) yield chainEventFromRow(row);
    if (page.rows.length < pageSize) return;
    from = page.rows.at(-1)!.seq + 1;
  }
}

/**
 * Walks the whole chain in the database and checks it against the anchors kept outside it. The anchors
 * are read before the chain, so an event sealed meanwhile cannot make a current anchor look like a cut-off.
 */
export async function verifyAuditChain(
  pool: Pool,
  options: { keys: AuditKeyring | readonly AuditKey[]; anchors?: readonly SourcedAnchor[]; pageSize?: number },
): Promise<AuditVerification> {
  const keys = 'get' in options.keys ? options.keys : createKeyring(options.keys);
  const unsealed = Number((await pool.query<{ count: number }>('SELECT count(*)::int AS count FROM audit_events WHERE seq IS NULL')).rows[0]?.count ?? 0);
  const report = await verifyChainEntries(sealedEvents(pool, { pageSize: options.pageSize }), {
    keys,
    anchors: options.anchors ?? [],
    fromSeq: 1,
    toSeq: null,
    toHead: true,
  });
  return { ...report, unsealed };
}
