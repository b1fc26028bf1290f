import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossCheckTables } from '../../src/audit/cross-check-tables.js';
import type { Pool } from '../../src/database/database.js';
import { createRunStore, type RunStore } from '../../src/store/runs.js';
import { storeFiringIncident } from '../support/stored-incident.js';
import { startTestDatabase, type TestDatabase } from '../support/test-database.js';

let database: TestDatabase;
let pool: Pool;
let runs: RunStore;

const TARGET = 'host=web1,service=nginx';

/** A stored incident to hang runs on. */
const incident = () => storeFiringIncident(pool);

async function claim(incidentId: string): Promise<string> {
  const id = `${incidentId}:execute:1`;
  await runs.claim({ id, incidentId, kind: 'execute', actionId: 'restart-service', target: 'nginx', targetKey: TARGET, inputs: { host: 'web1', service: 'nginx' } });
  return id;
}

beforeAll(async () => {
  database = await startTestDatabase('unknown-run');
  pool = database.pool;
  runs = createRunStore(pool);
});

afterAll(async () => database?.stop());

describe('a run that ended unknown', () => {
  it('holds its target, whatever became of its incident, until an admin acknowledges it; then the next run may start', async () => {
    const first = await incident();
    const interrupted = await claim(first);
    expect(await runs.acquireSlot(interrupted, 4)).toEqual({ kind: 'acquired' });
    expect(await runs.start(interrupted)).toBe(true);
    // The service died mid-run; on replay the run had started already, so nobody knows what it did.
    expect(await runs.start(interrupted)).toBe(false);
    await runs.finish(interrupted, first, { state: 'unknown', exitCode: null, output: 'interrupted mid-run' });
    await pool.query(`UPDATE incidents SET state = 'failed', open = false WHERE id = $1`, [first]);

    const second = await incident();
    const waiting = await claim(second);
    const slot = await runs.acquireSlot(waiting, 4);
    expect(slot.kind).toBe('wait');
    expect(slot.kind === 'wait' && slot.reason).toMatch(new RegExp(`run ${interrupted} .* ended unknown: .*/acknowledge-run\\)`));

    // A run on another target is not held up by it.
    const elsewhere = await incident();
    const other = `${elsewhere}:execute:1`;
    await runs.claim({ id: other, incidentId: elsewhere, kind: 'execute', actionId: 'restart-service', target: 'caddy', targetKey: 'host=web2,service=caddy', inputs: {} });
    expect(await runs.acquireSlot(other, 4)).toEqual({ kind: 'acquired' });

    expect(await runs.acknowledgeUnknownRun(second, 'ada', 'wrong incident')).toBeNull();
    expect(await runs.acknowledgeUnknownRun(first, 'ada', 'checked web1: nginx stopped cleanly, config intact')).toEqual({ runId: interrupted });
    expect(await runs.acknowledgeUnknownRun(first, 'ada', 'again')).toBeNull();
    expect(await runs.acquireSlot(waiting, 4)).toEqual({ kind: 'acquired' });

    const events = await pool.query<{ actor: string; data: Record<string, unknown> }>(`SELECT actor, data FROM audit_events WHERE incident_id = $1 AND kind = 'run.acknowledged'`, [first]);
    expect(events.rows).toEqual([{ actor: 'ada', data: { runId: interrupted, targetKey: TARGET, reason: 'checked web1: nginx stopped cleanly, config intact' } }]);
    expect((await crossCheckTables(pool)).filter((m) => m.table === 'remediation_runs')).toEqual([]);
  });

  it('an acknowledgement written behind Responder\'s back is named by the audit cross-check', async () => {
    const crashed = await incident();
    const run = await claim(crashed);
    await runs.acquireSlot(run, 4);
    await runs.start(run);
    await runs.finish(run, crashed, { state: 'unknown', exitCode: null, output: 'interrupted mid-run' });
    await pool.query(`UPDATE remediation_runs SET acknowledged_by = 'mallory', acknowledged_at = now(), acknowledge_reason = 'trust me' WHERE id = $1`, [run]);
    expect((await crossCheckTables(pool)).filter((m) => m.table === 'remediation_runs')).toEqual([
      { table: 'remediation_runs', problem: `run ${run} is marked acknowledged, but no run.acknowledged event by the same person says so: changed outside Responder` },
    ]);
  });
});
