import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeLoki, type FakeLoki } from '../testing/fake-loki.js';
import { startControlledExporter, type ControlledExporter } from './controlled-exporter.js';
import { startPrometheus, type PrometheusBinaries, type RunningServer } from './prometheus-server.js';
import { backfillText, liveValue, type Scenario } from './scenario.js';

/** A real Prometheus holding each scenario's planted hour and scraping its live values, plus the Loki fake. */
export interface ScenarioWorld {
  prometheus: RunningServer;
  exporter: ControlledExporter;
  loki: FakeLoki;
  stop(): Promise<void>;
}

function rulesYaml(scenarios: readonly Scenario[]): string {
  const rules = scenarios.flatMap((s) => s.rules.map((r) => ({ alert: r.alert, expr: r.expr, for: '0s', labels: r.labels, annotations: r.annotations })));
  // JSON is valid YAML.
  return JSON.stringify({ groups: [{ name: 'scenarios', interval: '1s', rules }] });
}

async function waitForFiring(prometheusUrl: string, names: readonly string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  let firing: string[] = [];
  while (Date.now() < deadline) {
    const response = await fetch(`${prometheusUrl}/api/v1/alerts`).catch(() => null);
    if (response?.ok) {
      const body = (await response.json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
      firing = body.data.alerts.filter((a) => a.state === 'firing').map((a) => a.labels.alertname ?? '');
      if (names.every((n) => firing.includes(n))) return;
    }
    await sleep(250);
  }
  throw new Error(`planted rules did not fire within 30 s: want ${names.join(', ')}, firing ${firing.join(', ') || 'none'}`);
}

export async function startScenarioWorld(scenarios: readonly Scenario[], binaries: PrometheusBinaries = {}): Promise<ScenarioWorld> {
  const nowSeconds = Math.floor(Date.now() / 1000);
  const exporter = await startControlledExporter();
  const loki = await startFakeLoki();
  let prometheus: RunningServer | undefined;
  try {
    for (const series of scenarios.flatMap((s) => s.series)) exporter.set(series.name, liveValue(series), series.labels);
    for (const stream of scenarios.flatMap((s) => s.logs)) {
      const lines = stream.lines.flatMap((l) =>
        Array.from({ length: l.repeat }, (_, i) => ({ at: Date.now() - l.minutesAgo * 60_000 + i * 1000, line: l.line })),
      );
      loki.push(stream.labels, lines);
    }
    prometheus = await startPrometheus({
      ...binaries,
      scrapeTargets: [exporter.target],
      rules: rulesYaml(scenarios),
      honorLabels: true,
      backfill: backfillText(scenarios, nowSeconds),
    });
    await waitForFiring(prometheus.url, [...new Set(scenarios.flatMap((s) => s.rules.map((r) => r.alert)))]);
  } catch (error) {
    await prometheus?.stop();
    await exporter.stop();
    await loki.close();
    throw error;
  }
  const running = prometheus;
  return {
    prometheus: running,
    exporter,
    loki,
    async stop() {
      await running.stop();
      await exporter.stop();
      await loki.close();
    },
  };
}
