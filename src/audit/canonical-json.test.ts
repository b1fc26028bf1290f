import { describe, expect, it } from 'vitest';
import { hashAuditEvent } from './audit-log.js';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it('does not depend on key order, at any depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'x' } })).toBe(canonicalJson({ a: { c: 'x', d: [1, { y: 2, z: 1 }] }, b: 1 }));
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });

  it('drops undefined like JSON does and keeps null', () => {
    expect(canonicalJson({ a: undefined, b: null, c: [undefined] })).toBe('{"b":null,"c":[null]}');
  });
});

describe('hashAuditEvent', () => {
  const event = { id: 7, seq: 3, incidentId: 'i', at: '2026-11-28T06:00:00.000Z', actor: 'alice', kind: 'approval.granted', data: { reason: 'ok' }, prevHash: '0'.repeat(64) };

  it('changes when any field changes', () => {
    const base = hashAuditEvent(event);
    const variants = [
      { ...event, id: 8 },
      { ...event, seq: 4 },
      { ...event, incidentId: null },
      { ...event, at: '2026-11-28T06:00:00.001Z' },
      { ...event, actor: 'mallory' },
      { ...event, kind: 'approval.rejected' },
      { ...event, data: { reason: 'ok ' } },
      { ...event, prevHash: '1'.repeat(64) },
    ];
    for (const variant of variants) expect(hashAuditEvent(variant)).not.toBe(base);
    expect(hashAuditEvent({ ...event, data: { reason: 'ok' } })).toBe(base);
  });
});
