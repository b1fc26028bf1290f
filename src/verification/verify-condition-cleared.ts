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
 * means the instant query comes back empty. Query errors count as "not yet", not as success; a
 * deadline passed without one answer is "could not check" (skipped), not "still firing": nothing
 * showed the condition holding, and a rollback must not be proposed on a monitoring outage.
 */
export async function verifyConditionCleared(options: VerifyOptions): Promise<VerificationResult> {
  if (!options.prometheus) return { outcome: 'skipped', reason: 'no Prometheus configured' };
  if (!options.expression) return { outcome: 'skipped', reason: 'the alert carries no rule expression' };
  const sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  const started = Date.now();
  const deadline = started + options.timeoutSeconds * 1000;
  let checks = 0;
  let lastSeries = -1;
  let answered = false;
  let lastError = '';
  for (;;) {
    checks += 1;
    try {
      const series = await options.prometheus.query(options.expression);
      answered = true;
      lastSeries = series.length;
      if (series.length === 0) return { outcome: 'cleared', checks, elapsedMs: Date.now() - started };
    } catch (error) {
      lastSeries = -1;
      lastError = (error as Error).message;
    }
    if (Date.now() + options.intervalSeconds * 1000 > deadline) {
      if (!answered) return { outcome: 'skipped', reason: `Prometheus answered none of ${checks} check(s) within ${options.timeoutSeconds}s: ${lastError}` };
      return { outcome: 'still_firing', checks, elapsedMs: Date.now() - started, lastSeries };
    }
    await sleep(options.intervalSeconds * 1000);
  }
}
