import { describe, expect, it } from 'vitest';
import { wellFormedJson, wellFormedText } from './well-formed-text.js';

describe('wellFormedText', () => {
  it('replaces a NUL with U+FFFD', () => {
    expect(wellFormedText('disk\u0000full')).toBe('disk\uFFFDfull');
  });

  it('replaces a lone high surrogate and a lone low surrogate with U+FFFD', () => {
    expect(wellFormedText('a\ud800b')).toBe('a\uFFFDb');
    expect(wellFormedText('a\udc00b')).toBe('a\uFFFDb');
    expect(wellFormedText('\ud800')).toBe('\uFFFD');
    expect(wellFormedText('end\ud83d')).toBe('end\uFFFD');
  });

  it('replaces each bad code unit on its own, a reversed pair being two', () => {
    expect(wellFormedText('\u0000\u0000')).toBe('\uFFFD\uFFFD');
    expect(wellFormedText('\udc00\ud800')).toBe('\uFFFD\uFFFD');
  });

  it('leaves well-formed text alone, emoji and other astral characters included', () => {
    for (const text of ['', 'plain', 'café ☕', 'fire 🔥 and 𝔘', '\uFFFD already']) expect(wellFormedText(text)).toBe(text);
  });

  it('a string passes through JSON as valid PostgreSQL jsonb text once cleaned', () => {
    const json = JSON.stringify(wellFormedText('x\u0000y\ud800z'));
    expect(json).toBe('"x\uFFFDy\uFFFDz"');
    expect(json).not.toMatch(/\\u(0000|d[89a-f])/i);
  });
});

describe('wellFormedJson', () => {
  it('cleans strings at any depth, in objects and arrays', () => {
    const body = JSON.parse('{"alerts":[{"labels":{"job":"a\\u0000b"},"annotations":{"summary":"\\ud800"}}],"list":["ok","\\udfff"]}');
    expect(wellFormedJson(body)).toEqual({ alerts: [{ labels: { job: 'a\uFFFDb' }, annotations: { summary: '\uFFFD' } }], list: ['ok', '\uFFFD'] });
  });

  it('cleans object keys', () => {
    const body = JSON.parse('{"labels":{"bad\\u0000key":"v","\\ud800":"w"}}');
    expect(wellFormedJson(body)).toEqual({ labels: { 'bad\uFFFDkey': 'v', '\uFFFD': 'w' } });
  });

  it('keeps numbers, booleans and null as they are', () => {
    const body = { n: 97.5, t: true, f: false, z: null, nested: [1, null, 'x\u0000'] };
    expect(wellFormedJson(body)).toEqual({ n: 97.5, t: true, f: false, z: null, nested: [1, null, 'x\uFFFD'] });
  });

  it('does not modify its input, and returns the very same value when nothing needed replacing', () => {
    const clean = { alerts: [{ labels: { a: 'b' } }], s: '🔥' };
    expect(wellFormedJson(clean)).toBe(clean);
    const dirty = { keep: { a: 'b' }, fix: ['\u0000'] };
    const result = wellFormedJson(dirty) as typeof dirty;
    expect(dirty.fix[0]).toBe('\u0000');
    expect(result.fix[0]).toBe('\uFFFD');
    expect(result.keep).toBe(dirty.keep);
  });

  it('keeps a "__proto__" key as data and never turns it into a prototype', () => {
    const body = JSON.parse('{"__proto__":{"polluted":"yes"},"x":"\\u0000"}') as object;
    const result = wellFormedJson(body) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toEqual(['__proto__', 'x']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('two keys that become equal keep the later value, as a repeated JSON key does', () => {
    const body = JSON.parse('{"k\\u0000":"first","k\\ud800":"second"}');
    expect(wellFormedJson(body)).toEqual({ 'k\uFFFD': 'second' });
  });
});
