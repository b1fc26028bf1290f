import { describe, expect, it } from 'vitest';
import { capToolResult } from './cap-tool-result.js';

describe('capToolResult', () => {
  it('passes a small result through untouched', () => {
    expect(capToolResult('up=1', 100)).toEqual({ text: 'up=1', bytes: 4, truncated: false });
  });

  it('cuts 5 MB to the budget and tells the model how to narrow the query', () => {
    const capped = capToolResult('x'.repeat(5 * 1024 * 1024), 4000);
    expect(capped.truncated).toBe(true);
    expect(capped.bytes).toBe(5 * 1024 * 1024);
    expect(Buffer.byteLength(capped.text)).toBeLessThanOrEqual(4000);
    expect(capped.text).toMatch(/\[truncated: showing 4000 of 5242880 bytes\. Narrow the query/);
  });

  it('never splits a multi-byte character', () => {
    const capped = capToolResult('é'.repeat(1000), 400);
    expect(capped.text).not.toContain('\uFFFD');
    expect(Buffer.byteLength(capped.text)).toBeLessThanOrEqual(400);
  });
});
