import { describe, expect, it } from 'vitest';
import { matchesSelector, selectorToPromQl, toSelector } from './label-selector.js';

describe('label selectors', () => {
  const labels = { job: 'node', instance: 'web1:9100' };

  it('matches as PromQL does: regexes anchored, a missing label as empty', () => {
    expect(matchesSelector({ filters: [{ name: 'instance', type: '=~', value: 'web.*' }] }, labels)).toBe(true);
    expect(matchesSelector({ filters: [{ name: 'instance', type: '=~', value: 'web1' }] }, labels)).toBe(false);
    expect(matchesSelector({ filters: [{ name: 'job', type: '!~', value: 'db|cache' }, { name: 'job', type: '!=', value: 'x' }] }, labels)).toBe(true);
    expect(matchesSelector({ filters: [{ name: 'env', type: '=', value: '' }] }, labels)).toBe(true);
  });

  it('refuses an invalid regex with a code the tools turn into a hint', () => {
    expect(() => matchesSelector({ filters: [{ name: 'job', type: '=~', value: '(' }] }, labels)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });

  it('writes a selector as PromQL, escaping values, and wraps a bare matcher', () => {
    expect(selectorToPromQl(toSelector({ name: 'path', type: '=', value: 'C:\\ "x"' }))).toBe('{path="C:\\\\ \\"x\\""}');
    expect(selectorToPromQl({ filters: [{ name: 'a', type: '=~', value: 'b.*' }, { name: 'c', type: '!=', value: 'd' }] })).toBe('{a=~"b.*",c!="d"}');
  });
});
