import type { Logger } from 'pino';
import type { ApprovalRequest } from '../domain/approval.js';
import type { Incident } from '../domain/incident-record.js';
import type { ApprovalChannel } from './approval-channel.js';

export interface ApprovalAnnouncer {
  /** A request opened: every channel asks its people. */
  posted(request: ApprovalRequest): Promise<void>;
  /** A decision was counted. */
  updated(request: ApprovalRequest): Promise<void>;
  /** The request ended; channels stop asking. */
  withdrawn(request: ApprovalRequest): Promise<void>;
}

/**
 * Tells every channel, each on its own: a channel that is down (a homeserver, a webhook) must not hold
 * up the others or the decision itself; it logs, and catches up from the record when it is back.
 */
export function createApprovalAnnouncer(channels: readonly ApprovalChannel[], incidents: { get(id: string): Promise<Incident | null> }, log: Logger): ApprovalAnnouncer {
  async function tell(what: 'post' | 'update' | 'withdraw', request: ApprovalRequest): Promise<void> {
    if (channels.length === 0) return;
    const incident = await incidents.get(request.incidentId);
    if (!incident) return;
    await Promise.all(
      channels.map((channel) =>
        channel[what]({ request, incident }).catch((error: unknown) =>
          log.warn({ err: error, channel: channel.name, request: request.id }, `approval channel could not ${what} the request`),
        ),
      ),
    );
  }
  return {
    posted: (request) => tell('post', request),
    updated: (request) => tell('update', request),
    withdrawn: (request) => tell('withdraw', request),
  };
}
