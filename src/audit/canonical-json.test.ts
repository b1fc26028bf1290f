import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts object keys, with no whitespace', () => {
    expect(canonicalJson({ b: 1, a: 2, c: { z: true, y: 'x' } })).toBe('{"a":2,"b":1,"c":{"y":"x","z":true}}');
  });

  it('does not depend on key order at any depth, inside arrays too', () => {
    const written = { kind: 'run', data: { steps: [{ name: 'a', exit: 0 }, [{ q: 1, p: 2 }]], host: 'web1' } };
    // jsonb hands keys back in its own order (shorter keys first); the hash must not notice.
    const readBack = { data: { host: 'web1', steps: [{ exit: 0, name: 'a' }, [{ p: 2, q: 1 }]] }, kind: 'run' };
    expect(canonicalJson(readBack)).toBe(canonicalJson(written));
  });

  it('keeps array order, which is content', () => {
    expect(canonicalJson([1, [2, 3], { a: [4, 5] }])).toBe('[1,[2,3],{"a":[4,5]}]');
    expect(canonicalJson([3, 2])).not.toBe(canonicalJson([2, 3]));
  });

  it('drops undefined properties, writes undefined list items as null, keeps null', () => {
    expect(canonicalJson({ a: undefined, b: null, c: [undefined, 1], d: { e: undefined } })).toBe('{"b":null,"c":[null,1],"d":{}}');
  });

  it('reads back as the value it was given, like JSON.stringify', () => {
    const value = { text: 'quote " backslash \\ newline \n émoji 🚒', n: -1.5, big: 1e21, flags: [true, false], empty: {}, none: [] };
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
    expect(canonicalJson({ nan: Number.NaN, inf: Number.POSITIVE_INFINITY })).toBe(JSON.stringify({ inf: Infinity, nan: NaN }));
  });
});
