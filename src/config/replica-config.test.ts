import { describe, expect, it } from 'vitest';
import { checkConfig, loadConfig } from './load-config.js';

describe('replica settings', () => {
  it('default to one replica called local, and take an id from the environment', () => {
    expect(loadConfig({ env: {} }).replica).toEqual({ id: 'local', heartbeatSeconds: 10, deadAfterSeconds: 60 });
    expect(loadConfig({ env: { RESPONDER_REPLICA__ID: 'web-2.eu' } }).replica.id).toBe('web-2.eu');
  });

  it('refuse an id that is not a plain name, and a gone-after shorter than three heartbeats, naming the key', () => {
    for (const id of ['-x', 'a b', 'a/b', 'x'.repeat(64), 'ü']) {
      const result = checkConfig({ env: { RESPONDER_REPLICA__ID: id } });
      expect(result.config, id).toBeNull();
      expect(result.problems.map((p) => p.path), id).toEqual(['replica.id']);
    }
    const tooEager = checkConfig({ env: { RESPONDER_REPLICA__HEARTBEAT_SECONDS: '10', RESPONDER_REPLICA__DEAD_AFTER_SECONDS: '20' } });
    expect(tooEager.problems).toEqual([{ path: 'replica.deadAfterSeconds', message: expect.stringMatching(/at least 3 × heartbeatSeconds/) }]);
  });
});
