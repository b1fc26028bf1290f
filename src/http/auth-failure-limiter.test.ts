import { describe, expect, it } from 'vitest';
import { createAuthFailureLimiter } from './auth-failure-limiter.js';

describe('the failed-credentials limit per address', () => {
  const clock = () => {
    let at = 1_000_000;
    return { now: () => at, advance: (ms: number) => (at += ms) };
  };

  it('refuses an address for the rest of its minute once it reached the limit, and says so once', () => {
    const time = clock();
    const blocked: string[] = [];
    const limiter = createAuthFailureLimiter({ perMinute: 3, now: time.now, onBlocked: (peer) => blocked.push(peer) });
    limiter.failed('192.0.2.7');
    limiter.failed('192.0.2.7');
    expect(limiter.blockedFor('192.0.2.7')).toBe(0);
    time.advance(20_000);
    limiter.failed('192.0.2.7');
    expect(limiter.blockedFor('192.0.2.7')).toBe(40);
    expect(limiter.blockedFor('192.0.2.8')).toBe(0);
    limiter.failed('192.0.2.7');
    expect(blocked).toEqual(['192.0.2.7']);
    time.advance(39_500);
    expect(limiter.blockedFor('192.0.2.7')).toBe(1);
    time.advance(500);
    expect(limiter.blockedFor('192.0.2.7')).toBe(0);
    limiter.failed('192.0.2.7');
    expect(limiter.blockedFor('192.0.2.7')).toBe(0);
  });

  it('never refuses an exempt address (a trusted proxy speaks for many people)', () => {
    const limiter = createAuthFailureLimiter({ perMinute: 1, exempt: (peer) => peer === '10.0.0.1' });
    for (let i = 0; i < 10; i += 1) limiter.failed('10.0.0.1');
    expect(limiter.blockedFor('10.0.0.1')).toBe(0);
  });

  it('keeps at most maxPeers addresses, so many addresses failing once each cannot grow it without bound', () => {
    const time = clock();
    const limiter = createAuthFailureLimiter({ perMinute: 2, maxPeers: 100, now: time.now });
    limiter.failed('198.51.100.1');
    limiter.failed('198.51.100.1');
    expect(limiter.blockedFor('198.51.100.1')).toBeGreaterThan(0);
    for (let i = 0; i < 1000; i += 1) limiter.failed(`203.0.113.${i}`);
    // The oldest entries made room; an address forgotten this way may try again (the cost of the bound).
    expect(limiter.blockedFor('198.51.100.1')).toBe(0);
    limiter.failed('203.0.113.999');
    expect(limiter.blockedFor('203.0.113.999')).toBeGreaterThan(0);
  });
});
