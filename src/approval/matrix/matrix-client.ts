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
  /**
   * The room's events sent at or after `since`, oldest first; the newest `limit` when there are more.
   * What the first sync after a restart does not hand out (it starts from the newest few events).
   */
  history(roomId: string, since: Date, limit: number): Promise<RawRoomEvent[]>;
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

const HISTORY_PAGE = 100;

/** An event as the client-server API hands it out (in /messages, or inside the SDK's MatrixEvent). */
interface HistoryEvent {
  event_id?: string;
  type?: string;
  sender?: string;
  room_id?: string;
  origin_server_ts?: number;
  content?: Record<string, unknown>;
  redacts?: unknown;
}

function rawEvent(event: HistoryEvent): RawRoomEvent {
  return {
    event_id: event.event_id ?? '',
    type: event.type ?? '',
    sender: event.sender ?? '',
    room_id: event.room_id ?? '',
    content: event.content ?? {},
    ...(typeof event.redacts === 'string' ? { redacts: event.redacts } : {}),
  };
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
    async history(roomId, since, limit) {
      const found: RawRoomEvent[] = [];
      let from: string | undefined;
      // Newest first, a page at a time, until an event older than `since` or the limit.
      for (let done = false; !done; ) {
        const page = await client.http.authedRequest<{ chunk?: HistoryEvent[]; end?: string }>(Method.Get, `/rooms/${encodeURIComponent(roomId)}/messages`, {
          dir: 'b',
          limit: String(HISTORY_PAGE),
          ...(from ? { from } : {}),
        });
        const chunk = page.chunk ?? [];
        for (const event of chunk) {
          if (typeof event.origin_server_ts !== 'number' || event.origin_server_ts < since.getTime() || found.length >= limit) {
            done = true;
            break;
          }
          found.push(rawEvent(event));
        }
        if (!page.end || chunk.length === 0) done = true;
        from = page.end;
      }
      return found.reverse();
    },
    async start(handlers) {
      client.on(RoomEvent.Timeline, (event: MatrixEvent, _room, toStartOfTimeline) => {
        if (toStartOfTimeline) return;
        // The SDK's getters: a synced event's own JSON may leave out room_id.
        handlers.onEvent(rawEvent({ ...(event.event as HistoryEvent), event_id: event.getId(), type: event.getType(), sender: event.getSender(), room_id: event.getRoomId() }));
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
