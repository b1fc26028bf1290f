import { describe, expect, it } from 'vitest';
import type { SealedAuditEvent } from '../domain/audit-event.js';
import { contentSha256, GENESIS_HASH, keyedAuditHash, plainAuditHash, sealAuditEvent } from './audit-hash.js';
import { auditKeyFromSecret } from './audit-key.js';

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
    sealed.push({ ...unhashed, hash: plainAuditHash(unhashed) });
  }
  return sealed;
}

describe('plainAuditHash (events sealed before the chain was keyed)', () => {
  it('is a SHA-256 hex digest, the same every time for the same event', () => {
    expect(plainAuditHash(event)).toMatch(/^[0-9a-f]{64}$/);
    expect(plainAuditHash(structuredClone(event))).toBe(plainAuditHash(event));
  });

  it('changes when any field changes', () => {
    const base = plainAuditHash(event);
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
    const hashes = variants.map(plainAuditHash);
    for (const hash of hashes) expect(hash).not.toBe(base);
    expect(new Set(hashes).size).toBe(variants.length);
  });

  it('does not change when the database hands the data back with its keys reordered', () => {
    const reordered = { ...event, data: { inputs: { hosts: ['web1', 'web2'], service: 'nginx' }, reason: 'ok' } };
    expect(plainAuditHash(reordered)).toBe(plainAuditHash(event));
  });

  it('does not let two fields trade content unnoticed', () => {
    expect(plainAuditHash({ ...event, actor: 'approval.granted', kind: 'alice' })).not.toBe(plainAuditHash(event));
  });
});

describe('the plain hash chain', () => {
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

describe('sealAuditEvent (HMAC-SHA256 with the audit key)', () => {
  const key = auditKeyFromSecret('k'.repeat(64));
  const otherKey = auditKeyFromSecret('o'.repeat(64));

  it('is not the plain hash, and depends on the key: without it nobody can compute a seal', () => {
    const sealed = sealAuditEvent(event, key);
    expect(sealed).toMatch(/^[0-9a-f]{64}$/);
    expect(sealed).not.toBe(plainAuditHash(event));
    expect(sealAuditEvent(event, otherKey)).not.toBe(sealed);
    expect(sealAuditEvent(structuredClone(event), key)).toBe(sealed);
  });

  it('changes when any field of the event or its place changes', () => {
    const base = sealAuditEvent(event, key);
    const variants: Unhashed[] = [
      { ...event, id: 8 },
      { ...event, seq: 4 },
      { ...event, incidentId: null },
      { ...event, at: '2026-11-28T06:00:00.001Z' },
      { ...event, actor: 'mallory' },
      { ...event, kind: 'approval.rejected' },
      { ...event, data: { ...event.data, reason: 'ok ' } },
      { ...event, prevHash: '1'.repeat(64) },
    ];
    const seals = variants.map((variant) => sealAuditEvent(variant, key));
    for (const seal of seals) expect(seal).not.toBe(base);
    expect(new Set(seals).size).toBe(variants.length);
  });

  it('can be checked from the link alone: place, key id, incident and content digest', () => {
    const link = { seq: event.seq, prevHash: event.prevHash, keyId: key.id, incidentId: event.incidentId, contentSha256: contentSha256(event) };
    expect(keyedAuditHash(link, key.secret)).toBe(sealAuditEvent(event, key));
    expect(keyedAuditHash({ ...link, keyId: otherKey.id }, key.secret)).not.toBe(sealAuditEvent(event, key));
  });
});
