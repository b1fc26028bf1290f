import { describe, expect, it } from 'vitest';
import { readIntent, requestIdPrefix, type RoomEvent } from './matrix-inbound.js';

const event = (type: string, content: Record<string, unknown>, extra: Partial<RoomEvent> = {}): RoomEvent => ({ event_id: '$e', type, sender: '@alice:example.org', room_id: '!r', content, ...extra });
const reaction = (key: string, rel_type = 'm.annotation') => event('m.reaction', { 'm.relates_to': { rel_type, event_id: '$card', key } });

describe('what a room event asks of the bot', () => {
  it('reads ✅ and ❌ reactions, with or without the emoji variation selector', () => {
    expect(readIntent(reaction('✅'))).toEqual({ kind: 'vote', cardEventId: '$card', approved: true });
    expect(readIntent(reaction('✅\uFE0F'))).toEqual({ kind: 'vote', cardEventId: '$card', approved: true });
    expect(readIntent(reaction('❌'))).toEqual({ kind: 'vote', cardEventId: '$card', approved: false });
  });

  it('ignores other reactions and relations it does not know', () => {
    expect(readIntent(reaction('👍'))).toEqual({ kind: 'ignore' });
    expect(readIntent(reaction('✅', 'm.reference'))).toEqual({ kind: 'ignore' });
    expect(readIntent(event('m.reaction', { 'm.relates_to': 'not an object' }))).toEqual({ kind: 'ignore' });
  });

  it('reads commands, in a thread or as a reply, and their reasons', () => {
    expect(readIntent(event('m.room.message', { body: '!approve 1a2b3c4d looks right' }))).toEqual({ kind: 'command', command: 'approve', id: '1a2b3c4d', reason: 'looks right', threadRoot: null });
    expect(readIntent(event('m.room.message', { body: '> <@bot:x> the card\n\n!reject 1a2b3c4d not now\nsee logs', 'm.relates_to': { rel_type: 'm.thread', event_id: '$card' } }))).toEqual({
      kind: 'command',
      command: 'reject',
      id: '1a2b3c4d',
      reason: 'not now\nsee logs',
      threadRoot: '$card',
    });
    expect(readIntent(event('m.room.message', { body: '!STATUS' }))).toMatchObject({ command: 'status', id: null });
  });

  it('never acts on an edit (it repeats the command) or on text that only mentions a command', () => {
    expect(readIntent(event('m.room.message', { body: '* !approve 1a2b3c4d', 'm.relates_to': { rel_type: 'm.replace', event_id: '$x' } }))).toEqual({ kind: 'ignore' });
    expect(readIntent(event('m.room.message', { body: 'please !approve 1a2b3c4d' }))).toEqual({ kind: 'ignore' });
    expect(readIntent(event('m.room.message', { body: '!approved 1a2b3c4d' }))).toEqual({ kind: 'ignore' });
  });

  it('reads the redacted event id from older and newer room versions', () => {
    expect(readIntent(event('m.room.redaction', {}, { redacts: '$r1' }))).toEqual({ kind: 'redaction', redacts: '$r1' });
    expect(readIntent(event('m.room.redaction', { redacts: '$r2' }))).toEqual({ kind: 'redaction', redacts: '$r2' });
  });
});

describe('request ids typed in commands', () => {
  it('takes hex and dashes of at least eight characters, nothing that could widen a lookup', () => {
    expect(requestIdPrefix('1A2B3C4D')).toBe('1a2b3c4d');
    expect(requestIdPrefix('1a2b3c4d-0000')).toBe('1a2b3c4d-0000');
    expect(requestIdPrefix('1a2b')).toBeNull();
    expect(requestIdPrefix('1a2b3c4d%')).toBeNull();
    expect(requestIdPrefix("1a2b3c4d' OR 1=1")).toBeNull();
  });
});
