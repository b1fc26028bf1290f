import type { IncidentNotice } from '../../notify/incident-notice.js';
import type { NoticeSubscriber } from '../../notify/start-notifications.js';
import { threadLine } from './approval-card.js';
import type { MatrixApprovalChannel } from './matrix-approval-channel.js';

/** Where an expired request of a route is escalated in Matrix, beyond the card's thread. */
export interface MatrixEscalation {
  /** Mentioned in the card's thread: the on-call by default, or the route's people. */
  mention: readonly string[];
  /** Another room told as well (a team's room, a direct chat with the on-call). */
  roomId: string | null;
}

const LINES: Partial<Record<IncidentNotice['kind'], string>> = {
  executing: '⚙️ Executing the approved action.',
  error: '💥 Responder hit an error; nothing further runs on its own.',
};

/**
 * What happens after a decision, in the card's thread: executing, verified, failed, expired. An expired
 * request mentions the on-call (intentional mentions come only from config, never from alert text).
 */
export function matrixNoticeSubscriber(channel: MatrixApprovalChannel, escalationFor: (incidentId: string) => Promise<MatrixEscalation>): NoticeSubscriber {
  return {
    async onNotice(notice, seq) {
      const key = `notice:${seq}`;
      if (notice.kind === 'result') {
        const word = notice.state === 'resolved' ? '✅ Verified' : notice.state === 'unverified' ? '❔ Ran, not verified' : notice.state === 'rejected' ? '❌ Rejected' : '❌ Failed';
        await channel.followUp(notice.incidentId, key, threadLine(`${word}: ${notice.detail}`));
        return;
      }
      if (notice.kind === 'approval-expired') {
        const escalation = await escalationFor(notice.incidentId);
        const text = `⏰ Nobody decided on ${notice.subject} before the deadline. Please look${notice.link ? `: ${notice.link}` : '.'}`;
        await channel.followUp(notice.incidentId, key, threadLine(text, { mentions: [...escalation.mention] }));
        if (escalation.roomId) await channel.postToRoom(escalation.roomId, `escalate:${seq}`, threadLine(text, { mentions: [...escalation.mention] }));
        return;
      }
      const line = LINES[notice.kind];
      if (line) await channel.followUp(notice.incidentId, key, threadLine(line));
    },
  };
}
