import type { Pool } from './database.js';
import { withTransaction } from './database.js';

/** Append-only: never edit a shipped migration, add the next one. */
const MIGRATIONS: readonly { id: number; name: string; sql: string }[] = [
  {
    id: 1,
    name: 'incidents, alerts, approvals, runs, audit',
    sql: `
      CREATE TABLE incidents (
        id uuid PRIMARY KEY,
        fingerprint text NOT NULL,
        source text NOT NULL,
        state text NOT NULL,
        open boolean NOT NULL DEFAULT true,
        state_reason text,
        route text,
        mode text,
        alert_name text NOT NULL,
        severity text NOT NULL,
        instance text,
        labels jsonb NOT NULL,
        annotations jsonb NOT NULL,
        expression text,
        evidence jsonb,
        proposal jsonb,
        dry_run jsonb,
        decision jsonb,
        verification jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      -- One open incident per alert fingerprint: the grouping rule, enforced by the database.
      CREATE UNIQUE INDEX incidents_open_fingerprint ON incidents (fingerprint) WHERE open;
      CREATE INDEX incidents_state ON incidents (state, created_at DESC);

      CREATE TABLE alert_notifications (
        id bigserial PRIMARY KEY,
        incident_id uuid NOT NULL REFERENCES incidents (id),
        source text NOT NULL,
        receiver text NOT NULL,
        fingerprint text NOT NULL,
        status text NOT NULL,
        dedup_key text NOT NULL UNIQUE,
        alert jsonb NOT NULL,
        deliveries integer NOT NULL DEFAULT 1,
        received_at timestamptz NOT NULL DEFAULT now(),
        last_received_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX alert_notifications_incident ON alert_notifications (incident_id, id);

      CREATE TABLE approvals (
        id bigserial PRIMARY KEY,
        incident_id uuid NOT NULL REFERENCES incidents (id),
        approver text NOT NULL,
        approved boolean NOT NULL,
        reason text NOT NULL,
        modifications jsonb,
        channel text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX approvals_incident ON approvals (incident_id, id);

      CREATE TABLE remediation_runs (
        -- "<incident>:<kind>:<round>": deterministic, so a replayed step claims the same run.
        id text PRIMARY KEY,
        incident_id uuid NOT NULL REFERENCES incidents (id),
        kind text NOT NULL,
        action_id text NOT NULL,
        target text NOT NULL,
        inputs jsonb NOT NULL,
        state text NOT NULL,
        exit_code integer,
        output text,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      );
      CREATE INDEX remediation_runs_incident ON remediation_runs (incident_id, started_at);
      CREATE INDEX remediation_runs_target ON remediation_runs (target, started_at) WHERE kind = 'execute';

      -- Events are written without their chain fields, inside the transaction of the change they
      -- record; the chain sealer then gives them a position (seq) and hash in batches. Holding one
      -- global lock through every commit instead would serialise all writes behind one fsync each.
      CREATE TABLE audit_events (
        id bigserial PRIMARY KEY,
        incident_id uuid,
        at timestamptz NOT NULL,
        actor text NOT NULL,
        kind text NOT NULL,
        data jsonb NOT NULL,
        seq bigint UNIQUE,
        prev_hash text,
        hash text
      );
      CREATE INDEX audit_events_incident ON audit_events (incident_id, id);
      CREATE INDEX audit_events_unsealed ON audit_events (id) WHERE seq IS NULL;

      -- Append-only for everyone, the service included: the one permitted update is sealing an
      -- unsealed event, once, without touching what it says.
      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
           AND NEW.id = OLD.id AND NEW.incident_id IS NOT DISTINCT FROM OLD.incident_id AND NEW.at = OLD.at
           AND NEW.actor = OLD.actor AND NEW.kind = OLD.kind AND NEW.data = OLD.data THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_events is append-only';
      END $$;
      CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
    `,
  },
  {
    id: 2,
    name: 'agent investigations',
    sql: `
      -- One per incident: what the model was shown, each model and tool call, tokens and cost.
      CREATE TABLE investigations (
        incident_id uuid PRIMARY KEY REFERENCES incidents (id),
        outcome text NOT NULL,
        reason text,
        provider text NOT NULL,
        model text NOT NULL,
        input_tokens integer NOT NULL,
        output_tokens integer NOT NULL,
        cost_usd double precision NOT NULL,
        record jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];

// Several replicas may start at once; one migrates, the others wait on this lock.
const MIGRATION_LOCK = 7_261_001;

export async function migrate(pool: Pool): Promise<number[]> {
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query<{ id: number }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.id)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [migration.id, migration.name]);
      applied.push(migration.id);
    }
    return applied;
  });
}
