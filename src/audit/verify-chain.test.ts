import { describe, expect, it } from 'vitest';
import { createAnchor, type SourcedAnchor } from './anchors.js';
import { contentSha256, GENESIS_HASH, plainAuditHash, sealAuditEvent } from './audit-hash.js';
import { auditKeyFromSecret, createKeyring, type AuditKey } from './audit-key.js';
import type { ChainEntry, ChainEvent } from './chain-entry.js';
import { verifyChainEntries, type ChainReport, type VerifyChainOptions } from './verify-chain.js';

const key = auditKeyFromSecret('a'.repeat(64), 'audit.key');
const attackerKey = auditKeyFromSecret('m'.repeat(64), 'guess.key');
const INCIDENT = '5b0b3a52-7c1e-4d2a-9f43-0c8a3b6f1e10';
const OTHER = '9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

type Content = Pick<ChainEvent, 'incidentId' | 'actor' | 'kind' | 'data'>;

function content(count: number, incidentOf: (i: number) => string = () => INCIDENT): Content[] {
  return Array.from({ length: count }, (_, i) => ({ incidentId: incidentOf(i), actor: i === 2 ? 'alice' : 'responder', kind: i === 2 ? 'approval.granted' : 'incident.state', data: { step: i } }));
}

/** Seals events the way the sealer does; `plainUntil` events first with the pre-key plain hash. */
function seal(events: Content[], options: { plainUntil?: number; with?: AuditKey } = {}): ChainEvent[] {
  const sealed: ChainEvent[] = [];
  for (const [index, item] of events.entries()) {
    const seq = index + 1;
    const base = { type: 'event' as const, ...item, id: 100 + seq, seq, at: `2026-11-28T06:00:${String(seq).padStart(2, '0')}.000Z`, prevHash: sealed.at(-1)?.hash ?? GENESIS_HASH };
    const plain = seq <= (options.plainUntil ?? 0);
    const sealWith = options.with ?? key;
    sealed.push({ ...base, keyId: plain ? null : sealWith.id, hash: plain ? plainAuditHash(base) : sealAuditEvent(base, sealWith) });
  }
  return sealed;
}

/** Re-seals events from `from` on after a change, as an attacker re-computes every later hash. */
function reseal(events: ChainEvent[], from: number, how: 'plain' | AuditKey): ChainEvent[] {
  const out = events.map((e) => ({ ...e }));
  for (let i = from - 1; i < out.length; i += 1) {
    const event = out[i]!;
    event.seq = i + 1;
    event.prevHash = i === 0 ? GENESIS_HASH : out[i - 1]!.hash;
    if (how === 'plain') {
      event.keyId = null;
      event.hash = plainAuditHash(event);
    } else {
      event.keyId = how.id;
      event.hash = sealAuditEvent(event, how);
    }
  }
  return out;
}

async function* stream(entries: readonly ChainEntry[]): AsyncGenerator<ChainEntry> {
  yield* entries;
}

function anchorAt(events: readonly ChainEvent[], seq: number, signer: AuditKey = key): SourcedAnchor {
  return { ...createAnchor({ seq, hash: events[seq - 1]!.hash }, signer, new Date('2026-11-28T07:00:00Z')), source: 'audit-anchors.jsonl' };
}

function verify(entries: readonly ChainEntry[], options: Partial<VerifyChainOptions> = {}): Promise<ChainReport> {
  return verifyChainEntries(stream(entries), { keys: createKeyring([key]), anchors: [], fromSeq: 1, toSeq: null, toHead: true, ...options });
}

function broken(report: ChainReport): { brokenAt: number; problem: string } {
  expect(report.ok, JSON.stringify(report)).toBe(false);
  if (report.ok) throw new Error('unreachable');
  return { brokenAt: report.brokenAt, problem: report.problem };
}

describe('verifyChainEntries', () => {
  const chain = seal(content(8));

  it('accepts an intact keyed chain and says how it was sealed and anchored', async () => {
    const report = await verify(chain, { anchors: [anchorAt(chain, 4), anchorAt(chain, 8)] });
    expect(report).toMatchObject({ ok: true, events: 8, keyed: 8, plain: 0, anchorsMatched: 2, head: chain[7]!.hash });
    expect(report.newestAnchor?.seq).toBe(8);
    expect(report.warnings).toEqual([]);
  });

  it('accepts a chain whose first events were sealed with the plain hash before the chain was keyed', async () => {
    const upgraded = seal(content(6), { plainUntil: 3 });
    expect(upgraded.map((e) => e.keyId === null)).toEqual([true, true, true, false, false, false]);
    expect(await verify(upgraded)).toMatchObject({ ok: true, events: 6, plain: 3, keyed: 3 });
  });

  it('warns that without an anchor a cut-off tail would go unnoticed', async () => {
    const report = await verify(chain);
    expect(report.ok).toBe(true);
    expect(report.warnings.join('\n')).toMatch(/no anchor covers this chain/);
  });

  it('an edited event whose later hashes were recomputed with the plain function: names it, and the downgrade', async () => {
    const edited = chain.map((e) => ({ ...e }));
    edited[2]!.actor = 'bob';
    const { brokenAt, problem } = broken(await verify(reseal(edited, 3, 'plain')));
    expect(brokenAt).toBe(3);
    expect(problem).toMatch(/^event 3 was altered after it was sealed: .*plain SHA-256.*after events sealed with the key/);
  });

  it('an edited event re-sealed with a guessed key under the real key id: its HMAC does not match', async () => {
    const edited = chain.map((e) => ({ ...e }));
    edited[2]!.data = { step: 2, reason: 'forged' };
    const forged = reseal(edited, 3, attackerKey).map((e, i) => (i >= 2 ? { ...e, keyId: key.id } : e));
    const { brokenAt, problem } = broken(await verify(forged));
    expect(brokenAt).toBe(3);
    expect(problem).toBe('event 3 was altered after it was sealed: its HMAC does not match what it says');
  });

  it('a deleted event leaves a gap it names', async () => {
    const { brokenAt, problem } = broken(await verify(chain.filter((e) => e.seq !== 5)));
    expect(brokenAt).toBe(5);
    expect(problem).toMatch(/^event 5 is missing: the chain goes from event 4 to event 6 \(deleted\)/);
  });

  it('a deleted event with the later ones renumbered: each keeps the seq it was sealed under', async () => {
    const renumbered = chain.filter((e) => e.seq !== 5).map((e) => (e.seq > 5 ? { ...e, seq: e.seq - 1 } : e));
    const { brokenAt, problem } = broken(await verify(renumbered));
    expect(brokenAt).toBe(5);
    expect(problem).toMatch(/event 5 was sealed as event 6: 1 event\(s\) before it were deleted/);
  });

  it('an inserted event, the later ones moved up one seq', async () => {
    const fake = { ...chain[2]!, actor: 'bob', kind: 'approval.granted', data: { reason: 'looks fine' }, prevHash: chain[2]!.prevHash };
    const shifted = [...chain.slice(0, 2), { ...fake, seq: 3, keyId: null, hash: plainAuditHash({ ...fake, seq: 3 }) }, ...chain.slice(2).map((e) => ({ ...e, seq: e.seq + 1 }))];
    const { brokenAt, problem } = broken(await verify(shifted));
    expect(brokenAt).toBe(3);
    expect(problem).toMatch(/^event 3 was inserted: it carries no valid seal.*the event after it was sealed directly after event 2/);
  });

  it('two events swapped', async () => {
    const swapped = [...chain.slice(0, 3), { ...chain[4]!, seq: 4 }, { ...chain[3]!, seq: 5 }, ...chain.slice(5)];
    const { brokenAt, problem } = broken(await verify(swapped));
    expect(brokenAt).toBe(4);
    expect(problem).toMatch(/^events are out of order: event 4 holds what was sealed as event 5, and event 5 what was sealed as event 4 \(reordered\)/);
  });

  it('a cut-off tail, invisible in the chain itself, is caught by the anchor', async () => {
    const cut = chain.slice(0, 5);
    expect((await verify(cut)).ok).toBe(true);
    const { brokenAt, problem } = broken(await verify(cut, { anchors: [anchorAt(chain, 8)] }));
    expect(brokenAt).toBe(6);
    expect(problem).toBe('the chain ends at event 5, but the anchor of 2026-11-28T07:00:00.000Z in audit-anchors.jsonl records event 8: the newest 3 event(s) were deleted (cut-off tail)');
  });

  it('a stretch rewritten by someone holding the key passes every seal, but not the anchors', async () => {
    const edited = chain.map((e) => ({ ...e }));
    edited[4]!.actor = 'bob';
    const rewritten = reseal(edited, 5, key);
    expect((await verify(rewritten)).ok).toBe(true);
    const { brokenAt, problem } = broken(await verify(rewritten, { anchors: [anchorAt(chain, 3), anchorAt(chain, 7)] }));
    expect(brokenAt).toBe(4);
    expect(problem).toMatch(/^event 7 is not the event the anchor .* recorded: events 4–7 were rewritten by someone holding the key/);
  });

  it('a chain rewritten wholesale with plain hashes is caught by the anchors', async () => {
    const downgraded = reseal(chain.map((e) => ({ ...e, actor: 'bob' })), 1, 'plain');
    expect((await verify(downgraded)).ok).toBe(true);
    expect(broken(await verify(downgraded, { anchors: [anchorAt(chain, 8)] })).problem).toMatch(/^event 8 is not the event the anchor/);
  });

  it('refuses an anchor whose MAC was not made with the key', async () => {
    const forged = { ...anchorAt(chain, 8, attackerKey), keyId: key.id };
    const { brokenAt, problem } = broken(await verify(chain, { anchors: [forged] }));
    expect(brokenAt).toBe(8);
    expect(problem).toMatch(/does not carry a valid MAC/);
  });

  it('names the key it was not given', async () => {
    const { problem } = broken(await verify(chain, { keys: createKeyring([]) }));
    expect(problem).toBe(`event 1 is sealed with key ${key.id}, which was not given: pass that key's file with --key-file (or list it in audit.previousKeyFiles)`);
  });

  it('follows a key rotation when both keys are given', async () => {
    const newKey = auditKeyFromSecret('n'.repeat(64));
    const rotated = reseal(chain, 5, newKey);
    expect(await verify(rotated, { keys: createKeyring([key, newKey]) })).toMatchObject({ ok: true, keyed: 8 });
    expect(broken(await verify(rotated)).problem).toMatch(/^event 5 is sealed with key/);
  });

  it("checks an incident's export through other incidents' links, and an export cut short", async () => {
    const mixed = seal(content(6, (i) => (i % 2 === 0 ? INCIDENT : OTHER)));
    const entries: ChainEntry[] = mixed.map((e) =>
      e.incidentId === OTHER ? { type: 'link', seq: e.seq, incidentId: e.incidentId, prevHash: e.prevHash, hash: e.hash, keyId: e.keyId!, contentSha256: contentSha256(e) } : e,
    );
    expect(await verify(entries.slice(1), { fromSeq: 2, toSeq: 6, toHead: false })).toMatchObject({ ok: true, links: 3, keyed: 2 });
    const forgedLink = entries.map((e) => (e.seq === 4 && e.type === 'link' ? { ...e, incidentId: INCIDENT } : e));
    expect(broken(await verify(forgedLink.slice(1), { fromSeq: 2, toSeq: 6, toHead: false })).brokenAt).toBe(4);
    expect(broken(await verify(entries.slice(1, 4), { fromSeq: 2, toSeq: 6, toHead: false })).problem).toMatch(/^the entries end at event 4, but they should run to event 6/);
  });
});
