import type { Verification } from '../domain/verification.js';
import type { PrometheusClient } from './prometheus-client.js';

export type VerificationResult = Verification;

export interface VerifyOptions {
  prometheus: PrometheusClient | null;
  expression: string | null;
  timeoutSeconds: number;
  intervalSeconds: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * An alerting expression returns series only while its condition holds, so "cleared"
 * means the instant query comes back empty. Query errors count as "not yet", not as success.
 */
export async function verifyConditionCleared(options: VerifyOptions): Promise<VerificationResult> {
  if (!options.prometheus) return { outcome: 'skipped', reason: 'no Prometheus configured' };
  if (!options.expression) return { outcome: 'skipped', reason: 'the alert carries no rule expression' };
  const sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  const started = Date.now();
  const deadline = started + options.timeoutSeconds * 1000;
  let checks = 0;
  let lastSeries = -1;
  for (;;) {
    checks += 1;
    try {
      const series = await options.prometheus.query(options.expression);
      lastSeries = series.length;
      if (series.length === 0) return { outcome: 'cleared', checks, elapsedMs: Date.now() - started };
    } catch {
      lastSeries = -1;
    }
    if (Date.now() + options.intervalSeconds * 1000 > deadline) {
      return { outcome: 'still_firing', checks, elapsedMs: Date.now() - started, lastSeries };
    }
    await sleep(options.intervalSeconds * 1000);
  }
}
