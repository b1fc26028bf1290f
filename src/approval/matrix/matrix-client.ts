import { ClientEvent, createClient, MatrixError, Method, RoomEvent, RoomMemberEvent, SyncState, type MatrixClient, type MatrixEvent } from 'matrix-js-sdk';
import { logger as sdkGlobalLogger } from 'matrix-js-sdk/lib/logger.js';
import type { Logger } from 'pino';
import type { RoomEvent as RawRoomEvent } from './matrix-inbound.js';

/** What Responder needs from a homeserver; the only file that touches matrix-js-sdk. */
export interface MatrixConnection {
  readonly userId: string;
  /** Sends one event; the same txnId again is the same event (the homeserver answers the first event's id). */
  send(roomId: string, type: string, content: Record<string, unknown>, txnId: string): Promise<string>;
  join(roomId: string): Promise<void>;
  /** Follows the room timeline (history from the last sync first, then live events) and invites. */
  start(handlers: { onEvent(event: RawRoomEvent): void; onInvite(roomId: string): void }): Promise<void>;
  stop(): void;
}

/** A homeserver answer that says resending the same message cannot help. */
export class MatrixRefusal extends Error {
  readonly code = 'matrix-refused';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

function sdkLogger(log: Logger) {
  // The SDK logs every request; keep it at debug, and its sync-loop complaints at debug too (the outbox
  // and the bot log what matters for an operator once).
  const write = (...parts: unknown[]) => log.debug({ component: 'matrix-js-sdk' }, parts.map(String).join(' '));
  const child = { trace: write, debug: write, info: write, warn: write, error: write, getChild: () => child };
  return child;
}

/**
 * matrix-js-sdk without crypto (cards go to an unencrypted room), without local echo (events are sent
 * through its HTTP layer with our own transaction ids, so a retried send after a crash is one event).
 */
export async function connectMatrix(options: { homeserverUrl: string; accessToken: string; initialSyncLimit: number; log: Logger }): Promise<MatrixConnection> {
  sdkGlobalLogger.setLevel('silent');
  const logger = sdkLogger(options.log);
  const probe: MatrixClient = createClient({ baseUrl: options.homeserverUrl, accessToken: options.accessToken, logger });
  let userId: string;
  try {
    userId = (await probe.whoami()).user_id;
  } finally {
    probe.stopClient();
  }
  const client: MatrixClient = createClient({ baseUrl: options.homeserverUrl, accessToken: options.accessToken, userId, logger });
  let started = false;
  return {
    userId,
    async send(roomId, type, content, txnId) {
      try {
        const path = `/rooms/${encodeURIComponent(roomId)}/send/${encodeURIComponent(type)}/${encodeURIComponent(txnId)}`;
        const answer = await client.http.authedRequest<{ event_id: string }>(Method.Put, path, undefined, content);
        return answer.event_id;
      } catch (error) {
        // 400/413: the event itself is wrong. 403 is not final: the bot may not have joined the room yet.
        if (error instanceof MatrixError && (error.httpStatus === 400 || error.httpStatus === 413)) throw new MatrixRefusal(`${error.errcode ?? 'error'}: ${error.message}`, error.httpStatus);
        throw error;
      }
    },
    async join(roomId) {
      await client.joinRoom(roomId);
    },
    async start(handlers) {
      client.on(RoomEvent.Timeline, (event: MatrixEvent, _room, toStartOfTimeline) => {
        if (toStartOfTimeline) return;
        const raw = event.event;
        handlers.onEvent({
          event_id: event.getId() ?? '',
          type: event.getType(),
          sender: event.getSender() ?? '',
          room_id: event.getRoomId() ?? '',
          content: (raw.content ?? {}) as Record<string, unknown>,
          ...(typeof raw.redacts === 'string' ? { redacts: raw.redacts } : {}),
        });
      });
      client.on(RoomMemberEvent.Membership, (_event, member) => {
        if (member.userId === userId && member.membership === 'invite') handlers.onInvite(member.roomId);
      });
      client.on(ClientEvent.Sync, (state: SyncState) => {
        if (state === SyncState.Error) options.log.debug('Matrix sync failed; the SDK retries');
      });
      await client.startClient({ initialSyncLimit: options.initialSyncLimit, lazyLoadMembers: true });
      started = true;
    },
    stop() {
      if (started) client.stopClient();
      client.removeAllListeners();
    },
  };
}
