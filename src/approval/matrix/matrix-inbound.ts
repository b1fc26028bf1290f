import { z } from 'zod';

/** The parts of a room event the bot reads; everything else about it is ignored. */
export const RoomEventSchema = z.object({
  event_id: z.string().min(1),
  type: z.string(),
  sender: z.string(),
  room_id: z.string(),
  content: z.record(z.unknown()).default({}),
  /** Redactions name the event they take back (top level in older rooms, in content from room v11 on). */
  redacts: z.string().optional(),
});
export type RoomEvent = z.infer<typeof RoomEventSchema>;

export type Intent =
  | { kind: 'vote'; cardEventId: string; approved: boolean }
  | { kind: 'command'; command: 'approve' | 'reject' | 'status'; id: string | null; reason: string; threadRoot: string | null }
  | { kind: 'redaction'; redacts: string }
  | { kind: 'ignore' };

const RelationSchema = z.object({ rel_type: z.string().optional(), event_id: z.string().optional(), key: z.string().optional() }).passthrough();

/** ✅ and ❌, with or without the emoji variation selector some keyboards add. */
function vote(key: string): boolean | null {
  const bare = key.replace(/\uFE0F/g, '').trim();
  if (bare === '\u2705') return true;
  if (bare === '\u274C') return false;
  return null;
}

/** A reply's body starts with the quoted original ("> <@x> …" lines); the command is what follows. */
function commandLine(body: string): string {
  const lines = body.split('\n');
  let index = 0;
  while (index < lines.length && lines[index]!.startsWith('>')) index += 1;
  return lines.slice(index).join('\n').trim();
}

const COMMAND = /^!(approve|reject|status)(?:\s+(\S+))?(?:\s+([\s\S]*))?$/i;

/** What a room event asks of the bot. Anything it does not recognise is ignored, never guessed at. */
export function readIntent(event: RoomEvent): Intent {
  const relation = RelationSchema.safeParse(event.content['m.relates_to']);
  if (event.type === 'm.reaction') {
    if (!relation.success || relation.data.rel_type !== 'm.annotation' || !relation.data.event_id || !relation.data.key) return { kind: 'ignore' };
    const approved = vote(relation.data.key);
    return approved === null ? { kind: 'ignore' } : { kind: 'vote', cardEventId: relation.data.event_id, approved };
  }
  if (event.type === 'm.room.redaction') {
    const redacts = event.redacts ?? (typeof event.content.redacts === 'string' ? event.content.redacts : undefined);
    return redacts ? { kind: 'redaction', redacts } : { kind: 'ignore' };
  }
  if (event.type === 'm.room.message') {
    // An edit re-sends the text in m.new_content; acting on it would run a command twice.
    if (relation.success && relation.data.rel_type === 'm.replace') return { kind: 'ignore' };
    const body = typeof event.content.body === 'string' ? event.content.body : '';
    const match = COMMAND.exec(commandLine(body));
    if (!match) return { kind: 'ignore' };
    const threadRoot = relation.success && relation.data.rel_type === 'm.thread' && relation.data.event_id ? relation.data.event_id : null;
    return { kind: 'command', command: match[1]!.toLowerCase() as 'approve' | 'reject' | 'status', id: match[2] ?? null, reason: (match[3] ?? '').trim(), threadRoot };
  }
  return { kind: 'ignore' };
}

/** A request id or its start as typed in a command: hex and dashes only, at least the 8 characters a card shows. */
export function requestIdPrefix(typed: string): string | null {
  const lowered = typed.toLowerCase();
  return /^[0-9a-f][0-9a-f-]{7,35}$/.test(lowered) ? lowered : null;
}
