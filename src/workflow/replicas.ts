import { hostname } from 'node:os';
import type { Pool } from '../database/database.js';
import { withTransaction } from '../database/database.js';
import { ServerError } from '../domain/errors.js';
import { createWakeablePause } from '../supervision/wakeable-pause.js';
import { listWorkflowsLeftBy, resumeWorkflowsElsewhere } from './durable-runtime.js';

// One sweeper at a time across replicas, so a gone replica's workflows are handed over once.
const SWEEP_LOCK = 7_261_070;

export interface ReplicaSettings {
  id: string;
  heartbeatSeconds: number;
  deadAfterSeconds: number;
}

interface Log {
  info(data: object, message: string): void;
  warn(data: object, message: string): void;
  error(data: object, message: string): void;
}

/**
 * Takes this replica's id for this process. Refused while a process on another host holds the id and was
 * heard from within deadAfterSeconds: two replicas under one id would each resume the other's workflows at
 * start and run them twice. The same host may take it at once (a restart of the same replica).
 */
export async function claimReplicaId(pool: Pool, settings: ReplicaSettings, self: { host: string; pid: number } = { host: hostname(), pid: process.pid }): Promise<void> {
  const claimed = await pool.query(
    `INSERT INTO responder_replicas (replica_id, host, pid, started_at, last_seen) VALUES ($1, $2, $3, now(), now())
     ON CONFLICT (replica_id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, started_at = now(), last_seen = now()
     WHERE responder_replicas.host = EXCLUDED.host OR responder_replicas.last_seen < now() - make_interval(secs => $4)`,
    [settings.id, self.host, self.pid, settings.deadAfterSeconds],
  );
  if (claimed.rowCount === 1) return;
  const holder = (await pool.query<{ host: string; pid: number; ago: number }>(`SELECT host, pid, extract(epoch FROM now() - last_seen)::float8 AS ago FROM responder_replicas WHERE replica_id = $1`, [settings.id])).rows[0];
  throw new ServerError(
    'replica_id_in_use',
    `replica id "${settings.id}" is in use by ${holder?.host ?? 'another host'} (pid ${holder?.pid ?? '?'}, heard from ${Math.round(holder?.ago ?? 0)} s ago): give each Responder on this database its own replica.id (RESPONDER_REPLICA__ID)`,
    { replicaId: settings.id, host: holder?.host },
  );
}

/** Replicas not heard from for deadAfterSeconds, other than this one. */
async function goneReplicas(db: Pick<Pool, 'query'>, settings: ReplicaSettings): Promise<{ id: string; host: string; lastSeen: string }[]> {
  const found = await db.query<{ replica_id: string; host: string; last_seen: Date | string }>(
    `SELECT replica_id, host, last_seen FROM responder_replicas WHERE replica_id <> $1 AND last_seen < now() - make_interval(secs => $2) ORDER BY replica_id`,
    [settings.id, settings.deadAfterSeconds],
  );
  return found.rows.map((row) => ({ id: row.replica_id, host: row.host, lastSeen: new Date(row.last_seen).toISOString() }));
}

/**
 * Hands the workflows of replicas that are gone to the live ones, once, under a lock. A gone replica's row
 * stays until nothing of this version is left under its id, so one that comes back later finds its id free.
 */
export async function sweepGoneReplicas(pool: Pool, settings: ReplicaSettings, log: Log, warned = new Set<string>()): Promise<number> {
  return withTransaction(pool, async (client) => {
    const locked = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [SWEEP_LOCK]);
    if (!locked.rows[0]?.locked) return 0;
    let handedOver = 0;
    for (const gone of await goneReplicas(client, settings)) {
      const left = await listWorkflowsLeftBy(gone.id);
      await resumeWorkflowsElsewhere(left.resumable);
      handedOver += left.resumable.length;
      if (left.resumable.length > 0) log.info({ replica: gone.id, host: gone.host, lastSeen: gone.lastSeen, workflows: left.resumable }, 'a replica is gone; its incidents go on here or on another live replica');
      if (left.otherVersions.length > 0) {
        // Said once per gone replica and process: the sweep comes round every few seconds.
        if (warned.has(gone.id)) continue;
        warned.add(gone.id);
        log.warn({ replica: gone.id, workflows: left.otherVersions }, 'a gone replica left workflows of another release: a live replica of that release resumes them, and if the gone one comes back on this release it fails them visibly');
      } else {
        await client.query('DELETE FROM responder_replicas WHERE replica_id = $1 AND last_seen < now() - make_interval(secs => $2)', [gone.id, settings.deadAfterSeconds]);
      }
    }
    return handedOver;
  });
}

export interface ReplicaWatch {
  stop(): Promise<void>;
}

/**
 * Says this replica is alive every heartbeatSeconds and looks for gone replicas every deadAfterSeconds / 3.
 * Its row stays at shutdown: a replica that does not come back is taken for gone and its incidents resumed.
 */
export function startReplicaWatch(pool: Pool, settings: ReplicaSettings, log: Log): ReplicaWatch {
  const pause = createWakeablePause();
  let stopped = false;
  const loop = async (everyMs: number, work: () => Promise<unknown>, failure: string) => {
    while (!stopped) {
      await pause.sleep(everyMs);
      if (stopped) return;
      await work().catch((error: unknown) => log.error({ err: error }, failure));
    }
  };
  const beat = async () => {
    const seen = await pool.query<{ gap: number }>(
      `WITH before AS (SELECT last_seen FROM responder_replicas WHERE replica_id = $1 FOR UPDATE)
       UPDATE responder_replicas r SET last_seen = now() FROM before WHERE r.replica_id = $1
       RETURNING extract(epoch FROM now() - before.last_seen)::float8 AS gap`,
      [settings.id],
    );
    const gap = seen.rows[0]?.gap;
    // Not heard from for that long (a stalled process, a database away): another replica may have taken this
    // one for gone and resumed its incidents, so both may be working on them now.
    if (gap === undefined || gap > settings.deadAfterSeconds) {
      log.error({ replica: settings.id, silentSeconds: gap ?? null }, 'this replica was taken for gone and its incidents may have been resumed elsewhere; restart it so only one replica works on each');
      if (gap === undefined) await claimReplicaId(pool, settings);
    }
  };
  const heartbeat = loop(settings.heartbeatSeconds * 1000, beat, 'could not record that this replica is alive; will retry');
  const warned = new Set<string>();
  const sweeping = loop((settings.deadAfterSeconds * 1000) / 3, () => sweepGoneReplicas(pool, settings, log, warned), 'could not look for gone replicas; will retry');
  return {
    async stop() {
      stopped = true;
      pause.wake();
      await Promise.all([heartbeat, sweeping]);
    },
  };
}
