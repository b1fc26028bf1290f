import type { Logger } from 'pino';
import type { Incident } from '../domain/incident-record.js';

export interface EscalationSettings {
  /** Where to POST when a request expires; null logs only. */
  webhookUrl: string | null;
  publicUrl: string | null;
  timeoutMinutes: number;
}

/** Nobody decided in time: tell someone who can, by webhook (or at least in the log). Answers what happened, for the audit trail. */
export async function escalateExpiredApproval(settings: EscalationSettings, incident: Incident, log: Logger): Promise<Record<string, unknown>> {
  const link = settings.publicUrl ? `${settings.publicUrl.replace(/\/+$/, '')}/incidents/${incident.id}` : null;
  const message = `Approval for ${incident.alertName} on ${incident.instance ?? 'unknown instance'} expired after ${settings.timeoutMinutes} min without a decision`;
  log.warn({ incident: incident.id, link }, message);
  if (!settings.webhookUrl) return { message, delivered: false, reason: 'no approval.escalationWebhookUrl configured; logged only' };
  try {
    const response = await fetch(settings.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'approval-expired', incidentId: incident.id, alert: incident.alertName, instance: incident.instance, link, message }),
      signal: AbortSignal.timeout(10_000),
    });
    return { message, delivered: response.ok, status: response.status };
  } catch (error) {
    return { message, delivered: false, reason: (error as Error).message };
  }
}
