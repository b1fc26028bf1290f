import { checkAnchor, type SourcedAnchor } from './anchors.js';
import { GENESIS_HASH, keyedAuditHash, plainAuditHash, sealAuditEvent } from './audit-hash.js';
import type { AuditKeyring } from './audit-key.js';
import type { ChainEntry } from './chain-entry.js';

interface ChainCounts {
  /** Entries checked and found intact before the first problem (all of them when ok). */
  events: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** Entries sealed with a key, with a plain SHA-256 (before the chain was keyed), and links standing in for left-out events. */
  keyed: number;
  plain: number;
  links: number;
  /** Anchors whose seq the walk reached and whose hash matched. */
  anchorsMatched: number;
  /** The newest valid anchor, when there is one. */
  newestAnchor: SourcedAnchor | null;
  /** Not failures, but limits of what this run could show. */
  warnings: string[];
}

export type ChainReport = (ChainCounts & { ok: true; head: string }) | (ChainCounts & { ok: false; brokenAt: number; problem: string });

export interface VerifyChainOptions {
  keys: AuditKeyring;
  anchors: readonly SourcedAnchor[];
  /** The seq the entries must start at: 1 for the database, an export's first; null takes the first entry's. */
  fromSeq: number | null;
  /** The seq the entries must end at (an export's last); null: wherever they end. */
  toSeq: number | null;
  /** The entries run up to the head as it was when they were read, so an anchor beyond them means a cut-off tail. */
  toHead: boolean;
}

// How far from its position verify looks for the seq an event was sealed under, to tell a reorder or a
// renumbering from an edit.
const SEARCH_WINDOW = 16;

const DOWNGRADE_NOTE = ' (it is sealed with a plain SHA-256, which anyone can compute, after events sealed with the key)';

type Scheme = 'keyed' | 'plain' | 'unknown-key';

function schemeOf(entry: ChainEntry, keys: AuditKeyring): Scheme {
  if (entry.type === 'event' && entry.keyId === null) return 'plain';
  return keys.has(entry.keyId!) ? 'keyed' : 'unknown-key';
}

/** Whether the entry's hash is its seal at `seq` after `prevHash`. */
function sealedAt(entry: ChainEntry, seq: number, prevHash: string, keys: AuditKeyring): boolean {
  if (entry.type === 'link') {
    const key = keys.get(entry.keyId);
    return key !== undefined && keyedAuditHash({ seq, prevHash, keyId: entry.keyId, incidentId: entry.incidentId, contentSha256: entry.contentSha256 }, key.secret) === entry.hash;
  }
  if (entry.keyId === null) return plainAuditHash({ ...entry, seq, prevHash }) === entry.hash;
  const key = keys.get(entry.keyId);
  return key !== undefined && sealAuditEvent({ ...entry, seq, prevHash }, key) === entry.hash;
}

function sealedAsSeq(entry: ChainEntry, keys: AuditKeyring): number | null {
  for (let offset = 1; offset <= SEARCH_WINDOW; offset += 1) {
    for (const seq of [entry.seq + offset, entry.seq - offset]) {
      if (seq >= 1 && sealedAt(entry, seq, entry.prevHash, keys)) return seq;
    }
  }
  return null;
}

function range(from: number, to: number): string {
  return from === to ? `event ${from}` : `events ${from}–${to}`;
}

/**
 * Walks chain entries in seq order and reports the first one whose seal, link or position does not hold,
 * saying what most likely happened to it (edited, deleted, inserted, reordered), then checks the walk
 * against the anchors kept outside the database: a rewritten stretch (with the key) or a cut-off tail.
 */
export async function verifyChainEntries(entries: AsyncIterable<ChainEntry>, options: VerifyChainOptions): Promise<ChainReport> {
  const { keys } = options;
  const counts: ChainCounts = { events: 0, firstSeq: null, lastSeq: null, keyed: 0, plain: 0, links: 0, anchorsMatched: 0, newestAnchor: null, warnings: [] };

  const anchorsBySeq = new Map<number, SourcedAnchor[]>();
  const forged: SourcedAnchor[] = [];
  let unknownKeyAnchors = 0;
  for (const anchor of options.anchors) {
    const check = checkAnchor(anchor, keys);
    if (check === 'forged') forged.push(anchor);
    if (check === 'unknown-key') unknownKeyAnchors += 1;
    if (check !== 'valid') continue;
    anchorsBySeq.set(anchor.seq, [...(anchorsBySeq.get(anchor.seq) ?? []), anchor]);
    if (!counts.newestAnchor || anchor.seq > counts.newestAnchor.seq) counts.newestAnchor = anchor;
  }
  if (unknownKeyAnchors > 0) counts.warnings.push(`${unknownKeyAnchors} anchor(s) were written with a key that was not given and could not be checked`);

  const iterator = entries[Symbol.asyncIterator]();
  let lookahead: ChainEntry | undefined;
  let lookaheadFilled = false;
  const next = async (): Promise<ChainEntry | undefined> => {
    if (lookaheadFilled) {
      lookaheadFilled = false;
      return lookahead;
    }
    const result = await iterator.next();
    return result.done ? undefined : result.value;
  };
  const peek = async (): Promise<ChainEntry | undefined> => {
    if (!lookaheadFilled) {
      const result = await iterator.next();
      lookahead = result.done ? undefined : result.value;
      lookaheadFilled = true;
    }
    return lookahead;
  };

  const broken = async (brokenAt: number, problem: string): Promise<ChainReport> => {
    await iterator.return?.();
    return { ...counts, ok: false, brokenAt, problem };
  };

  let expected: number | null = options.fromSeq;
  let previous = GENESIS_HASH;
  let linkOnTrust = options.fromSeq !== 1;
  let keyedSeen = false;
  let lastMatchedAnchor = 0;

  for (let entry = await next(); entry !== undefined; entry = await next()) {
    expected ??= entry.seq;
    if (linkOnTrust && entry.seq === expected) {
      // Entries that start later take their first link on trust; the first entry's seal still covers it.
      linkOnTrust = false;
      previous = entry.seq === 1 ? GENESIS_HASH : entry.prevHash;
      if (entry.seq > 1) counts.warnings.push(`the entries start at event ${entry.seq}: the link to the event before it is taken as given`);
    }
    const seq = entry.seq;
    counts.firstSeq ??= seq;
    if (seq > expected) {
      const missing = range(expected, seq - 1);
      return broken(expected, expected === 1 ? `the chain starts at event ${seq}: ${missing} ${seq - 1 === 1 ? 'is' : 'are'} missing (deleted)` : `${missing} ${seq - 1 === expected ? 'is' : 'are'} missing: the chain goes from event ${expected - 1} to event ${seq} (deleted)`);
    }
    if (seq < expected) return broken(seq, `event ${seq} comes again after event ${expected - 1}: events were duplicated or reordered`);

    const scheme = schemeOf(entry, keys);
    if (scheme === 'unknown-key') {
      return broken(seq, `event ${seq} is sealed with key ${entry.keyId}, which was not given: pass that key's file with --key-file (or list it in audit.previousKeyFiles)`);
    }
    const downgrade = scheme === 'plain' && keyedSeen;
    const intact = !downgrade && sealedAt(entry, seq, entry.prevHash, keys);
    if (intact && entry.prevHash !== previous) return broken(seq, `event ${seq} does not link to event ${seq - 1}: its own seal holds, so the event before it was replaced`);
    if (!intact) {
      const sealedAs = downgrade ? null : sealedAsSeq(entry, keys);
      const following = await peek();
      const note = downgrade ? DOWNGRADE_NOTE : '';
      if (sealedAs !== null) {
        if (following && following.seq === seq + 1 && sealedAt(following, seq, following.prevHash, keys)) {
          return broken(seq, `events are out of order: event ${seq} holds what was sealed as event ${sealedAs}, and event ${seq + 1} what was sealed as event ${seq} (reordered)`);
        }
        return broken(
          seq,
          sealedAs > seq
            ? `event ${seq} was sealed as event ${sealedAs}: ${sealedAs - seq} event(s) before it were deleted and the later ones renumbered`
            : `event ${seq} was sealed as event ${sealedAs}: ${seq - sealedAs} event(s) were inserted before it and the later ones renumbered`,
        );
      }
      if (following && following.seq === seq + 1 && (following.prevHash === previous || sealedAt(following, seq, following.prevHash, keys))) {
        return broken(seq, `event ${seq} was inserted: it carries no valid seal${note}, and the event after it was sealed directly after event ${seq - 1}`);
      }
      const what = entry.type === 'link' ? 'seal' : scheme === 'keyed' ? 'HMAC' : 'hash';
      return broken(seq, `event ${seq} was altered after it was sealed: its ${what} does not match what it says${note}`);
    }

    for (const anchor of anchorsBySeq.get(seq) ?? []) {
      if (anchor.hash === entry.hash) continue;
      const from = lastMatchedAnchor + 1;
      return broken(
        from,
        `event ${seq} is not the event the anchor of ${anchor.at} in ${anchor.source} recorded: ${range(from, seq)} were rewritten by someone holding the key, or replaced wholesale`,
      );
    }
    if (anchorsBySeq.has(seq)) {
      counts.anchorsMatched += 1;
      lastMatchedAnchor = seq;
    }
    if (entry.type === 'link') counts.links += 1;
    else if (scheme === 'keyed') counts.keyed += 1;
    else counts.plain += 1;
    if (scheme === 'keyed') keyedSeen = true;
    counts.events += 1;
    counts.lastSeq = seq;
    previous = entry.hash;
    expected = seq + 1;
  }

  if (options.toSeq !== null && (counts.lastSeq ?? 0) < options.toSeq) {
    const last = counts.lastSeq ?? (options.fromSeq ?? 1) - 1;
    return broken(last + 1, `the entries end at event ${last}, but they should run to event ${options.toSeq}: ${range(last + 1, options.toSeq)} ${options.toSeq === last + 1 ? 'is' : 'are'} missing (cut off)`);
  }
  if (options.toSeq !== null && (counts.lastSeq ?? 0) > options.toSeq) {
    return broken(options.toSeq + 1, `the entries run past event ${options.toSeq}, where they should end: events were appended`);
  }
  const newest = counts.newestAnchor;
  if (options.toHead && newest && newest.seq > (counts.lastSeq ?? 0)) {
    const last = counts.lastSeq ?? 0;
    return broken(
      last + 1,
      last === 0
        ? `the chain is empty, but the anchor of ${newest.at} in ${newest.source} records event ${newest.seq}: every event was deleted`
        : `the chain ends at event ${last}, but the anchor of ${newest.at} in ${newest.source} records event ${newest.seq}: the newest ${newest.seq - last} event(s) were deleted (cut-off tail)`,
    );
  }
  const firstForged = forged.sort((a, b) => a.seq - b.seq)[0];
  if (firstForged) {
    return broken(firstForged.seq, `the anchor for event ${firstForged.seq} in ${firstForged.source} does not carry a valid MAC: Responder did not write it (forged or altered)`);
  }
  if (!newest && counts.events > 0) {
    counts.warnings.push('no anchor covers this chain: a cut-off tail, or a chain rewritten by someone holding the key, would go unnoticed');
  }
  // The head of an empty chain is the genesis hash the first event will link to.
  return { ...counts, ok: true, head: previous };
}
