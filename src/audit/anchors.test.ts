import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAnchor, checkAnchor, createAnchor, readAnchorFile } from './anchors.js';
import { auditKeyFromSecret, createKeyring } from './audit-key.js';

const key = auditKeyFromSecret('a'.repeat(64));
const hash = (n: number) => n.toString(16).padStart(64, '0');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'responder-anchors-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the anchor file', () => {
  it('appends one JSON line per anchor and reads them back in order', () => {
    const file = join(dir, 'audit-anchors.jsonl');
    expect(readAnchorFile(file)).toEqual({ anchors: [], unreadable: 0 });
    appendAnchor(file, createAnchor({ seq: 3, hash: hash(3) }, key));
    appendAnchor(file, createAnchor({ seq: 9, hash: hash(9) }, key));
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(3);
    const { anchors } = readAnchorFile(file);
    expect(anchors.map((a) => [a.seq, a.hash, a.keyId, a.source])).toEqual([
      [3, hash(3), key.id, file],
      [9, hash(9), key.id, file],
    ]);
  });

  it('keeps a line a crash tore from spoiling the next anchor', () => {
    const file = join(dir, 'audit-anchors.jsonl');
    appendAnchor(file, createAnchor({ seq: 1, hash: hash(1) }, key));
    appendFileSync(file, '{"type":"anchor","seq":2,"ha');
    appendAnchor(file, createAnchor({ seq: 3, hash: hash(3) }, key));
    const { anchors, unreadable } = readAnchorFile(file);
    expect(anchors.map((a) => a.seq)).toEqual([1, 3]);
    expect(unreadable).toBe(1);
  });

  it('keeps only its newest half once an append takes it past its limit, whole lines only', () => {
    const file = join(dir, 'audit-anchors.jsonl');
    const lineBytes = JSON.stringify(createAnchor({ seq: 20, hash: hash(20) }, key)).length + 1; // the longest line here
    const maxBytes = 20 * lineBytes;
    for (let seq = 1; seq <= 20; seq += 1) appendAnchor(file, createAnchor({ seq, hash: hash(seq) }, key), maxBytes);
    expect(readAnchorFile(file).anchors).toHaveLength(20);
    appendAnchor(file, createAnchor({ seq: 21, hash: hash(21) }, key), maxBytes);
    const { anchors, unreadable } = readAnchorFile(file);
    expect(unreadable).toBe(0);
    expect(anchors.map((a) => a.seq)).toEqual([12, 13, 14, 15, 16, 17, 18, 19, 20, 21]);
    expect(statSync(file).size).toBeLessThanOrEqual(maxBytes / 2);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual(['audit-anchors.jsonl']);
    appendAnchor(file, createAnchor({ seq: 22, hash: hash(22) }, key), maxBytes);
    expect(readAnchorFile(file).anchors.map((a) => a.seq).at(-1)).toBe(22);
  });

  it('signs each anchor: one changed, or made without the key, does not check', () => {
    const keys = createKeyring([key]);
    const anchor = createAnchor({ seq: 5, hash: hash(5) }, key);
    expect(checkAnchor(anchor, keys)).toBe('valid');
    expect(checkAnchor({ ...anchor, seq: 6 }, keys)).toBe('forged');
    expect(checkAnchor({ ...createAnchor({ seq: 5, hash: hash(5) }, auditKeyFromSecret('b'.repeat(64))), keyId: key.id }, keys)).toBe('forged');
    expect(checkAnchor(anchor, createKeyring([]))).toBe('unknown-key');
  });
});
