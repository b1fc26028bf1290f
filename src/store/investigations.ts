import type { Pool, Queryable } from '../database/database.js';
import { withTransaction } from '../database/database.js';
import { appendAuditEvent } from '../audit/audit-store.js';
import { InvestigationSchema, type Investigation } from '../domain/investigation.js';
import { toJsonb } from './json-column.js';

export async function findInvestigation(db: Queryable, incidentId: string): Promise<Investigation | null> {
  const result = await db.query<{ record: unknown }>('SELECT record FROM investigations WHERE incident_id = $1', [incidentId]);
  return result.rows[0] ? InvestigationSchema.parse(result.rows[0].record) : null;
}

export function createInvestigationStore(pool: Pool) {
  return {
    /** Stores the investigation (a replayed step overwrites its own earlier attempt) with its audit event. */
    async save(incidentId: string, investigation: Investigation): Promise<void> {
      await withTransaction(pool, async (client) => {
        await client.query(
          `INSERT INTO investigations (incident_id, outcome, reason, provider, model, input_tokens, output_tokens, cost_usd, record)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
           ON CONFLICT (incident_id) DO UPDATE SET outcome = EXCLUDED.outcome, reason = EXCLUDED.reason, provider = EXCLUDED.provider,
             model = EXCLUDED.model, input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens,
             cost_usd = EXCLUDED.cost_usd, record = EXCLUDED.record, created_at = now()`,
          [
            incidentId,
            investigation.outcome,
            investigation.reason,
            investigation.provider,
            investigation.model,
            investigation.usage.inputTokens,
            investigation.usage.outputTokens,
            investigation.usage.costUsd,
            toJsonb(investigation),
          ],
        );
        await appendAuditEvent(client, {
          incidentId,
          actor: `agent:${investigation.provider}/${investigation.model}`,
          kind: 'agent.investigation',
          data: {
            outcome: investigation.outcome,
            reason: investigation.reason,
            action: investigation.proposal?.action ?? null,
            modelCalls: investigation.modelCalls,
            toolCalls: investigation.toolCalls,
            usage: investigation.usage,
          },
        });
      });
    },
    get: (incidentId: string) => findInvestigation(pool, incidentId),
  };
}

export type InvestigationStore = ReturnType<typeof createInvestigationStore>;
