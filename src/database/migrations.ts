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
  {
    id: 3,
    name: 'a webhook delivery in one statement; late duplicates attach to their incident',
    sql: `
      -- A firing notification seen before (same fingerprint, same startsAt) belongs to the incident it
      -- was stored with, even after that incident closed: this finds it.
      CREATE INDEX alert_notifications_firing_start ON alert_notifications (fingerprint, (alert->>'startsAt')) WHERE status = 'firing';
      -- "The latest incident of this fingerprint", for a resolved notification with nothing open.
      CREATE INDEX incidents_fingerprint ON incidents (fingerprint, created_at DESC);

      -- Stores one whole webhook delivery: every alert, its grouping into incidents, its notification
      -- row and audit events. Called as one statement in autocommit, so the delivery is one
      -- transaction and one round trip. Routing is decided by the caller (each alert carries
      -- "route": {"route","mode"} or null); closable_on_resolve is the domain's CLOSABLE_ON_RESOLVE.
      -- Answers [{"id","fingerprint","state","startWorkflow"}], one per alert, in fingerprint order.
      -- Audit events are written unsealed; the sealer gives them seq and hash after commit.
      CREATE FUNCTION responder_record_delivery(delivery jsonb, closable_on_resolve text[]) RETURNS jsonb
      LANGUAGE plpgsql AS $fn$
      DECLARE
        v_source text := delivery->>'source';
        v_receiver text := delivery->>'receiver';
        v_actor text := 'webhook:' || (delivery->>'source');
        v_sep bytea := decode('00', 'hex');
        v_alert jsonb;
        v_fingerprint text;
        v_status text;
        v_route jsonb;
        v_incident incidents;
        v_from text;
        v_opened boolean;
        v_start boolean;
        v_first boolean;
        v_tries integer;
        v_results jsonb[] := '{}';
      BEGIN
        -- A fixed order (code points, whatever the database collation) keeps two concurrent
        -- deliveries of overlapping groups from deadlocking on each other's incident rows.
        FOR v_alert IN
          SELECT a.value FROM jsonb_array_elements(delivery->'alerts') WITH ORDINALITY AS a (value, n)
          ORDER BY a.value->>'fingerprint' COLLATE "C", a.n
        LOOP
          v_fingerprint := v_alert->>'fingerprint';
          v_status := v_alert->>'status';
          v_route := NULLIF(v_alert->'route', 'null'::jsonb);
          v_opened := false;
          v_start := false;
          v_tries := 0;

          LOOP
            v_tries := v_tries + 1;
            IF v_tries > 5 THEN
              RAISE EXCEPTION 'incident for fingerprint % kept changing under this delivery', v_fingerprint USING ERRCODE = 'serialization_failure';
            END IF;

            -- The same firing seen before, maybe after its incident closed (a late or repeated delivery):
            -- it belongs to that incident and changes nothing there.
            IF v_status = 'firing' THEN
              SELECT i.* INTO v_incident FROM incidents i
              WHERE i.id = (SELECT n.incident_id FROM alert_notifications n
                            WHERE n.fingerprint = v_fingerprint AND n.status = 'firing' AND n.alert->>'startsAt' = v_alert->>'startsAt'
                            ORDER BY n.id DESC LIMIT 1)
              FOR UPDATE;
              EXIT WHEN FOUND;
            END IF;

            -- One open incident per fingerprint (incidents_open_fingerprint): the grouping rule.
            SELECT * INTO v_incident FROM incidents WHERE fingerprint = v_fingerprint AND open FOR UPDATE;
            EXIT WHEN FOUND;

            IF v_status = 'firing' THEN
              INSERT INTO incidents (id, fingerprint, source, state, state_reason, route, mode, alert_name, severity, instance, labels, annotations, expression)
              VALUES (gen_random_uuid(), v_fingerprint, v_source, 'received',
                      CASE WHEN v_route IS NULL THEN 'no route matched: stored and shown, not acted on' END,
                      v_route->>'route', v_route->>'mode', v_alert->>'name', v_alert->>'severity', v_alert->>'instance',
                      v_alert->'labels', v_alert->'annotations', v_alert->>'expression')
              ON CONFLICT (fingerprint) WHERE open DO NOTHING
              RETURNING * INTO v_incident;
              IF FOUND THEN
                v_opened := true;
                v_start := v_route IS NOT NULL;
                -- incident.opened already records the first notification of a new incident.
                INSERT INTO audit_events (incident_id, at, actor, kind, data)
                VALUES (v_incident.id, date_trunc('milliseconds', clock_timestamp()), v_actor, 'incident.opened',
                        jsonb_build_object('fingerprint', v_fingerprint, 'alert', v_alert->>'name', 'route', v_route->>'route', 'mode', v_route->>'mode'));
                EXIT;
              END IF;
              -- A concurrent delivery opened this fingerprint first and has committed: look again and attach.
              CONTINUE;
            END IF;

            -- Resolved with nothing open: attach to the latest incident of this fingerprint, or keep a closed record.
            SELECT * INTO v_incident FROM incidents WHERE fingerprint = v_fingerprint ORDER BY created_at DESC LIMIT 1;
            IF NOT FOUND THEN
              INSERT INTO incidents (id, fingerprint, source, state, open, state_reason, alert_name, severity, instance, labels, annotations, expression)
              VALUES (gen_random_uuid(), v_fingerprint, v_source, 'resolved', false, 'resolved notification for an alert never seen firing',
                      v_alert->>'name', v_alert->>'severity', v_alert->>'instance', v_alert->'labels', v_alert->'annotations', v_alert->>'expression')
              RETURNING * INTO v_incident;
              v_opened := true;
              INSERT INTO audit_events (incident_id, at, actor, kind, data)
              VALUES (v_incident.id, date_trunc('milliseconds', clock_timestamp()), v_actor, 'incident.opened',
                      jsonb_build_object('fingerprint', v_fingerprint, 'alert', v_alert->>'name', 'status', 'resolved'));
            END IF;
            EXIT;
          END LOOP;

          -- The same alert in the same state sent twice (retries, HA Alertmanager pairs) is one notification:
          -- dedup_key = hex sha256 of source, fingerprint, status, startsAt, endsAt ('' for none), NUL-separated.
          INSERT INTO alert_notifications (incident_id, source, receiver, fingerprint, status, dedup_key, alert)
          VALUES (v_incident.id, v_source, v_receiver, v_fingerprint, v_status,
                  encode(sha256(convert_to(v_source, 'UTF8') || v_sep || convert_to(v_fingerprint, 'UTF8') || v_sep || convert_to(v_status, 'UTF8')
                                || v_sep || convert_to(v_alert->>'startsAt', 'UTF8') || v_sep || convert_to(coalesce(v_alert->>'endsAt', ''), 'UTF8')), 'hex'),
                  v_alert - 'route')
          ON CONFLICT (dedup_key) DO UPDATE SET deliveries = alert_notifications.deliveries + 1, last_received_at = now()
          RETURNING alert_notifications.deliveries = 1 INTO v_first;

          IF v_status = 'resolved' AND v_first AND v_incident.state <> 'resolved' AND v_incident.state = ANY (closable_on_resolve) THEN
            v_from := v_incident.state;
            UPDATE incidents SET state = 'resolved', open = false, state_reason = 'alert resolved before any remediation ran', updated_at = now()
            WHERE id = v_incident.id
            RETURNING * INTO v_incident;
            INSERT INTO audit_events (incident_id, at, actor, kind, data)
            VALUES (v_incident.id, date_trunc('milliseconds', clock_timestamp()), v_actor, 'incident.state',
                    jsonb_build_object('from', v_from, 'to', 'resolved', 'reason', 'alert resolved before any remediation ran'));
          ELSIF v_first AND NOT v_opened THEN
            INSERT INTO audit_events (incident_id, at, actor, kind, data)
            VALUES (v_incident.id, date_trunc('milliseconds', clock_timestamp()), v_actor, 'alert.notification',
                    jsonb_build_object('status', v_status, 'startsAt', v_alert->'startsAt', 'endsAt', coalesce(v_alert->'endsAt', 'null'::jsonb)));
          END IF;

          v_results := array_append(v_results, jsonb_build_object('id', v_incident.id, 'fingerprint', v_incident.fingerprint, 'state', v_incident.state, 'startWorkflow', v_start));
        END LOOP;
        RETURN to_jsonb(v_results);
      END $fn$;
    `,
  },
  {
    id: 4,
    name: 'approval requests per round; one decision per person per request',
    sql: `
      -- One row per round of asking people: exactly this action and these inputs after this dry-run.
      CREATE TABLE approval_requests (
        id uuid PRIMARY KEY,
        incident_id uuid NOT NULL REFERENCES incidents (id),
        round integer NOT NULL,
        action_id text NOT NULL,
        inputs jsonb NOT NULL,
        risk text NOT NULL,
        proposal_hash text NOT NULL,
        approvals_required integer NOT NULL CHECK (approvals_required > 0),
        policy_reasons jsonb NOT NULL,
        deadline timestamptz NOT NULL,
        state text NOT NULL,
        state_reason text,
        modifications jsonb,
        modified_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        decided_at timestamptz,
        UNIQUE (incident_id, round)
      );
      CREATE UNIQUE INDEX approval_requests_one_open ON approval_requests (incident_id) WHERE state = 'open';

      ALTER TABLE approvals ADD COLUMN request_id uuid REFERENCES approval_requests (id);
      -- The same person deciding twice on one request is refused by the database, however many arrive at once.
      CREATE UNIQUE INDEX approvals_request_person ON approvals (request_id, approver) WHERE request_id IS NOT NULL;
    `,
  },
  {
    id: 20,
    name: 'keyed audit chain; Loki shipping position',
    sql: `
      -- Which key sealed an event (its id, never the key): NULL for events sealed before the chain was
      -- keyed, whose hash is a plain SHA-256. Set once, by the sealing update, which the append-only
      -- trigger already allows because it leaves what the event says untouched.
      ALTER TABLE audit_events ADD COLUMN key_id text;

      -- The chain is the outbox: events are shipped in seq order, and this row says how far a destination
      -- has got. Everything up to shipped_seq was delivered or, when the destination refused it for good,
      -- given up on with an audit.shipping.refused event saying so.
      CREATE TABLE audit_shipping (
        destination text PRIMARY KEY,
        shipped_seq bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    id: 10,
    name: 'several webhook deliveries in one statement (group commit)',
    sql: `
      -- Stores several webhook deliveries in one statement, so one transaction and one round trip carry
      -- what concurrent senders sent while the previous statement was running (group commit). Each
      -- delivery is stored exactly as responder_record_delivery (migration 3) stores it; the caller never
      -- puts two deliveries that share a fingerprint in one call, so no delivery sees another's writes.
      -- All alerts of all deliveries are taken in one fixed order (fingerprint by code point, then
      -- delivery, then position): every call locks incident rows in that order, so concurrent calls,
      -- single deliveries included, cannot deadlock on each other.
      -- Answers one array per delivery, in the order given: [{"id","fingerprint","state","startWorkflow"}],
      -- one per alert, in fingerprint order.
      CREATE FUNCTION responder_record_deliveries(deliveries jsonb, closable_on_resolve text[]) RETURNS jsonb
      LANGUAGE plpgsql AS $fn$
      DECLARE
        v_sep bytea := decode('00', 'hex');
        v_item record;
        v_alert jsonb;
        v_source text;
        v_receiver text;
        v_actor text;
        v_fingerprint text;
        v_status text;
        v_route jsonb;
        v_incident incidents;
        v_from text;
        v_opened boolean;
        v_start boolean;
        v_first boolean;
        v_tries integer;
        v_results jsonb[] := array_fill('[]'::jsonb, ARRAY[jsonb_array_length(deliveries)]);
      BEGIN
        FOR v_item IN
          SELECT d.n AS delivery, d.value->>'source' AS source, d.value->>'receiver' AS receiver, a.value AS alert
          FROM jsonb_array_elements(deliveries) WITH ORDINALITY AS d (value, n)
          CROSS JOIN LATERAL jsonb_array_elements(d.value->'alerts') WITH ORDINALITY AS a (value, n)
          ORDER BY a.value->>'fingerprint' COLLATE "C", d.n, a.n
        LOOP
          v_alert := v_item.alert;
          v_source := v_item.source;
          v_receiver := v_item.receiver;
          v_actor := 'webhook:' || v_item.source;
          v_fingerprint := v_alert->>'fingerprint';
          v_status := v_alert->>'status';
          v_route := NULLIF(v_alert->'route', 'null'::jsonb);
          v_opened := false;
          v_start := false;
          v_tries := 0;

          LOOP
            v_tries := v_tries + 1;
            IF v_tries > 5 THEN
              RAISE EXCEPTION 'incident for fingerprint % kept changing under this delivery', v_fingerprint USING ERRCODE = 'serialization_failure';
            END IF;

            -- The same firing seen before, maybe after its incident closed (a late or repeated delivery):
            -- it belongs to that incident and changes nothing there.
            IF v_status = 'firing' THEN
              SELECT i.* INTO v_incident FROM incidents i
              WHERE i.id = (SELECT n.incident_id FROM alert_notifications n
                            WHERE n.fingerprint = v_fingerprint AND n.status = 'firing' AND n.alert->>'startsAt' = v_alert->>'startsAt'
                            ORDER BY n.id DESC LIMIT 1)
              FOR UPDATE;
              EXIT WHEN FOUND;
            END IF;

            -- One open incident per fingerprint (incidents_open_fingerprint): the grouping rule.
            SELECT * INTO v_incident FROM incidents WHERE fingerprint = v_fingerprint AND open FOR UPDATE;
            EXIT WHEN FOUND;

            IF v_status = 'firing' THEN
              INSERT INTO incidents (id, fingerprint, source, state, state_reason, route, mode, alert_name, severity, instance, labels, annotations, expression)
              VALUES (gen_random_uuid(), v_fingerprint, v_source, 'received',
                      CASE WHEN v_route IS NULL THEN 'no route matched: stored and shown, not acted on' END,
                      v_route->>'route', v_route->>'mode', v_alert->>'name', v_alert->>'severity', v_alert->>'instance',
                      v_alert->'labels', v_alert->'annotations', v_alert->>'expression')
              ON CONFLICT (fingerprint) WHERE open DO NOTHING
              RETURNING * INTO v_incident;
              IF FOUND THEN
                v_opened := true;
                v_start := v_route IS NOT NULL;
                -- incident.opened already records the first notification of a new incident.
                INSERT INTO audit_events (incident_id, at, actor, kind, data)
                VALUES (v_incident.id, date_trunc('milliseconds', clock_timestamp()), v_actor, 'incident.opened',
                        jsonb_build_object('fingerprint', v_fingerprint, 'alert', v_alert->>'name', 'route', v_route->>'route', 'mode', v_route->>'mode'));
                EXIT;
              END IF;
              -- A concurrent delivery opened this fingerprint first and has committed: look again and attach.
              CONTINUE;
            END IF;

            -- Resolved with nothing open: attach to the latest incident of this fingerprint, or keep a closed record.
            SELECT * INTO v_incident FROM incidents WHERE fingerprint = v_fingerprint ORDER BY created_at DESC LIMIT 1;
            IF NOT FOUND THEN
              INSERT INTO incidents (id, fingerprint, source, state, open, state_reason, alert_name, severity, instance, labels, annotations, expression)
              VALUES (gen_random_uuid(), v_fingerprint, v_source, 'resolved', false, 'resolved notification for an alert never seen firing',
                      v_alert->>'name', v_alert->>'severity', v_alert->>'instance', v_alert->'labels', v_alert->'annotations', v_alert->>'expression')
              RETURNING * INTO v_incident;
              v_opened := true;
              INSERT INTO audit_events (incident_id, at, actor, kind, data)
              VALUES (v_incident.id, date_trunc('milliseconds', clock_timestamp()), v_actor, 'incident.opened',
                      jsonb_build_object('fingerprint', v_fingerprint, 'alert', v_alert->>'name', 'status', 'resolved'));
            END IF;
            EXIT;
          END LOOP;

          -- The same alert in the same state sent twice (retries, HA Alertmanager pairs) is one notification:
          -- dedup_key = hex sha256 of source, fingerprint, status, startsAt, endsAt ('' for none), NUL-separated.
          INSERT INTO alert_notifications (incident_id, source, receiver, fingerprint, status, dedup_key, alert)
          VALUES (v_incident.id, v_source, v_receiver, v_fingerprint, v_status,
                  encode(sha256(convert_to(v_source, 'UTF8') || v_sep || convert_to(v_fingerprint, 'UTF8') || v_sep || convert_to(v_status, 'UTF8')
                                || v_sep || convert_to(v_alert->>'startsAt', 'UTF8') || v_sep || convert_to(coalesce(v_alert->>'endsAt', ''), 'UTF8')), 'hex'),
                  v_alert - 'route')
          ON CONFLICT (dedup_key) DO UPDATE SET deliveries = alert_notifications.deliveries + 1, last_received_at = now()
          RETURNING alert_notifications.deliveries = 1 INTO v_first;

          IF v_status = 'resolved' AND v_first AND v_incident.state <> 'resolved' AND v_incident.state = ANY (closable_on_resolve) THEN
            v_from := v_incident.state;
            UPDATE incidents SET state = 'resolved', open = false, state_reason = 'alert resolved before any remediation ran', updated_at = now()
            WHERE id = v_incident.id
            RETURNING * INTO v_incident;
            INSERT INTO audit_events (incident_id, at, actor, kind, data)
            VALUES (v_incident.id, date_trunc('milliseconds', clock_timestamp()), v_actor, 'incident.state',
                    jsonb_build_object('from', v_from, 'to', 'resolved', 'reason', 'alert resolved before any remediation ran'));
          ELSIF v_first AND NOT v_opened THEN
            INSERT INTO audit_events (incident_id, at, actor, kind, data)
            VALUES (v_incident.id, date_trunc('milliseconds', clock_timestamp()), v_actor, 'alert.notification',
                    jsonb_build_object('status', v_status, 'startsAt', v_alert->'startsAt', 'endsAt', coalesce(v_alert->'endsAt', 'null'::jsonb)));
          END IF;

          v_results[v_item.delivery] := v_results[v_item.delivery]
            || jsonb_build_array(jsonb_build_object('id', v_incident.id, 'fingerprint', v_incident.fingerprint, 'state', v_incident.state, 'startWorkflow', v_start));
        END LOOP;
        RETURN to_jsonb(v_results);
      END $fn$;
    `,
  },
  {
    id: 40,
    name: 'why a run failed, what the engine handed back, who cancelled it',
    sql: `
      -- failure: a code (no-hosts-matched, exit-status, ...) beside the state, so "ran and did nothing" is
      -- never read as success. outputs: a Kestra execution's outputs or an HTTP endpoint's JSON answer.
      ALTER TABLE remediation_runs ADD COLUMN failure text, ADD COLUMN outputs jsonb, ADD COLUMN cancelled_by text;
    `,
  },
  {
    id: 41,
    name: 'one run at a time per target, a global limit, and cancel requests',
    sql: `
      -- target_key: the entry's target inputs (host=web1,service=nginx); two runs with the same key never
      -- overlap. slot_acquired_at: the run may start (its target is free and the global limit allows it);
      -- a claimed run without it is waiting. cancel_requested_*: an admin asked; the process running it
      -- sees the row and stops it, whichever replica that is.
      ALTER TABLE remediation_runs
        ADD COLUMN target_key text,
        ADD COLUMN slot_acquired_at timestamptz,
        ADD COLUMN cancel_requested_by text,
        ADD COLUMN cancel_requested_at timestamptz,
        ADD COLUMN cancel_reason text;
      CREATE INDEX remediation_runs_slots ON remediation_runs (target_key) WHERE slot_acquired_at IS NOT NULL AND state IN ('claimed', 'running');
    `,
  },
  {
    id: 30,
    name: 'a person may withdraw an approval while the request is open',
    sql: `
      -- A withdrawn decision stays for the record but no longer counts; the person may decide again, so
      -- "one decision per person per request" holds for the decisions that count.
      ALTER TABLE approvals ADD COLUMN withdrawn_at timestamptz;
      DROP INDEX approvals_request_person;
      CREATE UNIQUE INDEX approvals_request_person ON approvals (request_id, approver) WHERE request_id IS NOT NULL AND withdrawn_at IS NULL;
    `,
  },
  {
    id: 31,
    name: 'durable outbox for chat and push messages',
    sql: `
      -- A message is stored before anyone tries to send it and stays until the receiver took it, so a
      -- homeserver or webhook that is down loses nothing. dedupe_key makes enqueueing idempotent (a
      -- replayed step or a restart enqueues the same key again). Delivered rows are kept as the record
      -- of what was said; failed_at marks a message the receiver refused for good.
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        channel text NOT NULL,
        dedupe_key text NOT NULL UNIQUE,
        payload jsonb NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        result jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        failed_at timestamptz
      );
      CREATE INDEX outbox_pending ON outbox (channel, id) WHERE delivered_at IS NULL AND failed_at IS NULL;
    `,
  },
  {
    id: 32,
    name: 'Matrix approval cards, reactions and processed events',
    sql: `
      -- One card per approval request; event_id is set once the homeserver took it, and the row exists
      -- from the moment the card is queued, so a restart never queues a second card.
      CREATE TABLE matrix_cards (
        request_id uuid PRIMARY KEY REFERENCES approval_requests (id),
        incident_id uuid NOT NULL REFERENCES incidents (id),
        room_id text NOT NULL,
        short_id text NOT NULL,
        event_id text UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX matrix_cards_incident ON matrix_cards (incident_id, created_at);
      CREATE INDEX matrix_cards_short_id ON matrix_cards (short_id);
      -- Events the bot acted on: a sync that hands them out again after a restart changes nothing.
      CREATE TABLE matrix_inbox (
        event_id text PRIMARY KEY,
        received_at timestamptz NOT NULL DEFAULT now()
      );
      -- Reactions that recorded a decision, so redacting exactly that reaction withdraws exactly that decision.
      CREATE TABLE matrix_reactions (
        event_id text PRIMARY KEY,
        request_id uuid NOT NULL REFERENCES approval_requests (id),
        sender text NOT NULL,
        approver text NOT NULL
      );
    `,
  },
  {
    id: 50,
    name: 'a run that ended unknown holds its target until an admin acknowledges it',
    sql: `
      -- A run interrupted mid-way (the service died while it ran) may still be running, or may have left
      -- its target half-changed: nothing else runs on that target until a person has looked and said so.
      ALTER TABLE remediation_runs
        ADD COLUMN acknowledged_by text,
        ADD COLUMN acknowledged_at timestamptz,
        ADD COLUMN acknowledge_reason text;
      CREATE INDEX remediation_runs_unacknowledged ON remediation_runs (target_key) WHERE state = 'unknown' AND acknowledged_at IS NULL;
    `,
  },
  {
    id: 60,
    name: 'web sign-in sessions outlive a restart',
    sql: `
      -- Keyed by the SHA-256 of the cookie value, never the value: reading this table yields no usable cookie.
      -- The CSRF token is kept as issued; it authorizes nothing without the cookie it belongs to.
      CREATE TABLE web_sessions (
        id_sha256 text PRIMARY KEY,
        token_sha256 text NOT NULL,
        name text NOT NULL,
        csrf text NOT NULL,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
      );
      CREATE INDEX web_sessions_name ON web_sessions (name, created_at DESC);
      CREATE INDEX web_sessions_expires ON web_sessions (expires_at);
    `,
  },
  {
    id: 70,
    name: 'replicas sharing one database say they are alive',
    sql: `
      -- One row per replica id: which process holds it and when it last said it was alive. A replica not
      -- heard from for replica.deadAfterSeconds is taken for gone, and another resumes its workflows.
      CREATE TABLE responder_replicas (
        replica_id text PRIMARY KEY,
        host text NOT NULL,
        pid integer NOT NULL,
        started_at timestamptz NOT NULL,
        last_seen timestamptz NOT NULL
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
