import { createHmac } from 'node:crypto';
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, renameSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { AuditKey, AuditKeyring } from './audit-key.js';
import { canonicalJson } from './canonical-json.js';

export const DEFAULT_ANCHOR_FILE = 'audit-anchors.jsonl';

/**
 * The chain head as it stood at `at`, kept outside the database (a local file, Loki). A chain that no
 * longer reaches `seq`, or holds another hash there, was cut or rewritten. The MAC (HMAC-SHA256 with the
 * audit key) means whoever can append to the file or push to Loki cannot add a believable anchor without the key.
 */
export const AnchorSchema = z.object({
  type: z.literal('anchor'),
  seq: z.number().int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  keyId: z.string(),
  at: z.string(),
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});
export type Anchor = z.infer<typeof AnchorSchema>;

/** An anchor and where it was found, for messages: "the anchor of <at> in <source>". */
export type SourcedAnchor = Anchor & { source: string };

function anchorMac(anchor: Omit<Anchor, 'mac'>, secret: Buffer): string {
  const body = canonicalJson({ type: 'responder.audit.anchor', seq: anchor.seq, hash: anchor.hash, keyId: anchor.keyId, at: anchor.at });
  return createHmac('sha256', secret).update(body).digest('hex');
}

export function createAnchor(head: { seq: number; hash: string }, key: AuditKey, at = new Date()): Anchor {
  const unsigned = { type: 'anchor' as const, seq: head.seq, hash: head.hash, keyId: key.id, at: at.toISOString() };
  return { ...unsigned, mac: anchorMac(unsigned, key.secret) };
}

export type AnchorCheck = 'valid' | 'forged' | 'unknown-key';

export function checkAnchor(anchor: Anchor, keys: AuditKeyring): AnchorCheck {
  const key = keys.get(anchor.keyId);
  if (!key) return 'unknown-key';
  return anchorMac(anchor, key.secret) === anchor.mac ? 'valid' : 'forged';
}

export function anchorFileIn(dataDir: string): string {
  return join(resolve(dataDir), DEFAULT_ANCHOR_FILE);
}

/** The anchor file is cut back to about half this size when an append takes it past it. */
export const ANCHOR_FILE_MAX_BYTES = 1024 * 1024;

function fsyncDirectoryOf(file: string): void {
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/**
 * Keeps the newest lines that fit in `keepBytes`. Older anchors prove nothing a newer valid one does not:
 * an anchor pins the hash of its event, and that hash covers every event before it. The new file replaces
 * the old one by rename, so a crash leaves one or the other, never a mix.
 */
function compactAnchorFile(file: string, keepBytes: number): void {
  const text = readFileSync(file);
  let start = Math.max(0, text.length - keepBytes);
  // Start at a line boundary: the partial line before it is dropped with the rest.
  if (start > 0) start = text.indexOf(0x0a, start - 1) + 1;
  const next = `${file}.compacting`;
  const fd = openSync(next, 'w', 0o644);
  try {
    writeSync(fd, text.subarray(start));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(next, file);
  fsyncDirectoryOf(file);
}

/**
 * Appends one anchor and fsyncs it before returning, so an anchor that was reported written survives a
 * power cut. A line a crash left half-written is closed off first, so it spoils only itself. Past
 * `maxBytes` the file keeps only its newest half, so years of anchors neither fill the disk nor slow `verify`.
 */
export function appendAnchor(file: string, anchor: Anchor, maxBytes = ANCHOR_FILE_MAX_BYTES): void {
  const created = !existsSync(file);
  const fd = openSync(file, 'a+', 0o644);
  let size: number;
  try {
    size = fstatSync(fd).size;
    let separator = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) separator = '\n';
    }
    size += writeSync(fd, `${separator}${JSON.stringify(anchor)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // The new directory entry must be durable too, or the file itself could vanish in a crash.
  if (created) fsyncDirectoryOf(file);
  if (size > maxBytes) compactAnchorFile(file, Math.floor(maxBytes / 2));
}

/** Anchors in JSON-lines text; lines that are not anchors (a torn write, other records) are counted, not fatal. */
export function parseAnchorLines(text: string, source: string): { anchors: SourcedAnchor[]; unreadable: number } {
  const anchors: SourcedAnchor[] = [];
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      unreadable += 1;
      continue;
    }
    const parsed = AnchorSchema.safeParse(json);
    if (parsed.success) anchors.push({ ...parsed.data, source });
    else unreadable += 1;
  }
  return { anchors, unreadable };
}

/** The anchors in a file; a file that does not exist holds none. */
export function readAnchorFile(file: string): { anchors: SourcedAnchor[]; unreadable: number } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { anchors: [], unreadable: 0 };
    throw error;
  }
  return parseAnchorLines(text, file);
}
