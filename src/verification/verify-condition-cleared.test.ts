import { describe, expect, it } from 'vitest';
import type { PrometheusClient, VectorSample } from './prometheus-client.js';
import { verifyConditionCleared } from './verify-condition-cleared.js';

const firing: VectorSample[] = [{ metric: { instance: 'a' }, value: [0, '1'] }];
const noSleep = async () => {};

function scripted(answers: (VectorSample[] | Error)[]): PrometheusClient & { calls: number } {
  const client = {
    calls: 0,
    async query() {
      const answer = answers[Math.min(client.calls, answers.length - 1)]!;
      client.calls += 1;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return client;
}

describe('verifyConditionCleared', () => {
  it('is cleared once the rule expression returns no series', async () => {
    const prometheus = scripted([firing, firing, []]);
    const result = await verifyConditionCleared({ prometheus, expression: 'up == 0', timeoutSeconds: 60, intervalSeconds: 1, sleep: noSleep });
    expect(result).toMatchObject({ outcome: 'cleared', checks: 3 });
  });

  it('reports still_firing with the last series count when the deadline passes', async () => {
    const prometheus = scripted([firing]);
    const result = await verifyConditionCleared({ prometheus, expression: 'up == 0', timeoutSeconds: 0.001, intervalSeconds: 1, sleep: noSleep });
    expect(result).toMatchObject({ outcome: 'still_firing', lastSeries: 1 });
  });

  it('never counts a failing query as cleared: without a single answer it could not check', async () => {
    const prometheus = scripted([new Error('Prometheus unreachable')]);
    const result = await verifyConditionCleared({ prometheus, expression: 'up == 0', timeoutSeconds: 0.001, intervalSeconds: 1, sleep: noSleep });
    expect(result).toEqual({ outcome: 'skipped', reason: 'Prometheus answered none of 1 check(s) within 0.001s: Prometheus unreachable' });
  });

  it('a condition seen holding, then no answer until the deadline, is still firing', async () => {
    let now = 0;
    const prometheus = scripted([firing, new Error('Prometheus unreachable')]);
    const clock = Date.now;
    Date.now = () => now;
    try {
      const result = await verifyConditionCleared({ prometheus, expression: 'up == 0', timeoutSeconds: 3, intervalSeconds: 1, sleep: async (ms) => void (now += ms) });
      expect(result).toMatchObject({ outcome: 'still_firing', lastSeries: -1, checks: 4 });
    } finally {
      Date.now = clock;
    }
  });

  it('says why it could not verify', async () => {
    expect(await verifyConditionCleared({ prometheus: null, expression: 'up == 0', timeoutSeconds: 1, intervalSeconds: 1 })).toEqual({ outcome: 'skipped', reason: 'no Prometheus configured' });
    expect(await verifyConditionCleared({ prometheus: scripted([[]]), expression: null, timeoutSeconds: 1, intervalSeconds: 1 })).toEqual({
      outcome: 'skipped',
      reason: 'the alert carries no rule expression',
    });
  });
});
