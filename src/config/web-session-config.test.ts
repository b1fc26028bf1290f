import { describe, expect, it } from 'vitest';
import { checkConfig, loadConfig } from './load-config.js';

describe('how long a web sign-in lasts', () => {
  it('is 12 hours unless auth.sessionHours says otherwise, from the environment too', () => {
    expect(loadConfig({ env: {} }).auth.sessionHours).toBe(12);
    expect(loadConfig({ env: { RESPONDER_AUTH__SESSION_HOURS: '0.5' } }).auth.sessionHours).toBe(0.5);
  });

  it('refuses a value that is not a positive number of hours, at most 90 days, naming the key', () => {
    for (const value of ['0', '-1', 'forever', '1e9', 'Infinity', '2161']) {
      const result = checkConfig({ env: { RESPONDER_AUTH__SESSION_HOURS: value } });
      expect(result.config, value).toBeNull();
      expect(result.problems.map((p) => p.path), value).toEqual(['auth.sessionHours']);
    }
  });
});
