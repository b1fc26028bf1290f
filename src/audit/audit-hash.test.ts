import { describe, expect, it } from 'vitest';
import type { SealedAuditEvent } from '../domain/audit-event.js';
import { GENESIS_HASH, hashAuditEvent } from './audit-hash.js';

type Unhashed = Omit<SealedAuditEvent, 'hash'>;

const event: Unhashed = {
  id: 7,
  seq: 3,
  incidentId: '5b0b3a52-7c1e-4d2a-9f43-0c8a3b6f1e10',
  at: '2026-11-28T06:00:00.000Z',
  actor: 'alice',
  kind: 'approval.granted',
  data: { reason: 'ok', inputs: { service: 'nginx', hosts: ['web1', 'web2'] } },
  prevHash: GENESIS_HASH,
};

/** Seals events one after another the way the sealer does: each links to the hash before it. */
function chain(events: Omit<Unhashed, 'seq' | 'prevHash'>[]): SealedAuditEvent[] {
  const sealed: SealedAuditEvent[] = [];
  for (const [index, next] of events.entries()) {
    const unhashed = { ...next, seq: index + 1, prevHash: sealed.at(-1)?.hash ?? GENESIS_HASH };
    sealed.push({ ...unhashed, hash: hashAuditEvent(unhashed) });
  }
  return sealed;
}

describe('hashAuditEvent', () => {
  it('is a SHA-256 hex digest, the same every time for the same event', () => {
    expect(hashAuditEvent(event)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashAuditEvent(structuredClone(event))).toBe(hashAuditEvent(event));
  });

  it('changes when any field changes', () => {
    const base = hashAuditEvent(event);
    const variants: Unhashed[] = [
      { ...event, id: 8 },
      { ...event, seq: 4 },
      { ...event, incidentId: null },
      { ...event, at: '2026-11-28T06:00:00.001Z' },
      { ...event, actor: 'mallory' },
      { ...event, kind: 'approval.rejected' },
      { ...event, data: { ...event.data, reason: 'ok ' } },
      { ...event, data: { ...event.data, inputs: { service: 'nginx', hosts: ['web2', 'web1'] } } },
      { ...event, data: { ...event.data, extra: null } },
      { ...event, prevHash: '1'.repeat(64) },
    ];
    const hashes = variants.map(hashAuditEvent);
    for (const hash of hashes) expect(hash).not.toBe(base);
    expect(new Set(hashes).size).toBe(variants.length);
  });

  it('does not change when the database hands the data back with its keys reordered', () => {
    const reordered = { ...event, data: { inputs: { hosts: ['web1', 'web2'], service: 'nginx' }, reason: 'ok' } };
    expect(hashAuditEvent(reordered)).toBe(hashAuditEvent(event));
  });

  it('does not let two fields trade content unnoticed', () => {
    expect(hashAuditEvent({ ...event, actor: 'approval.granted', kind: 'alice' })).not.toBe(hashAuditEvent(event));
  });
});

describe('the hash chain', () => {
  const events = ['incident.opened', 'proposal.made', 'approval.granted'].map((kind, index) => ({
    id: index + 1,
    incidentId: event.incidentId,
    at: `2026-11-28T06:00:0${index}.000Z`,
    actor: 'responder',
    kind,
    data: { step: index },
  }));

  it('starts from the genesis hash and links every event to the one before', () => {
    const sealed = chain(events);
    expect(sealed[0]!.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < sealed.length; i += 1) expect(sealed[i]!.prevHash).toBe(sealed[i - 1]!.hash);
  });

  it('carries a change to an early event through every later hash', () => {
    const honest = chain(events);
    const rewritten = chain([{ ...events[0]!, actor: 'mallory' }, ...events.slice(1)]);
    for (let i = 0; i < honest.length; i += 1) expect(rewritten[i]!.hash).not.toBe(honest[i]!.hash);
  });
});
