import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertmanager } from '../support/alertmanager-server.js';
import { startControlledExporter, type ControlledExporter } from '../../src/eval/controlled-exporter.js';
import { freePort } from '../../src/eval/free-port.js';
import { startPrometheus, type RunningServer } from '../support/prometheus.js';

interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
}
interface WebhookBody {
  version: string;
  status: string;
  alerts: WebhookAlert[];
}

const RULES = `
groups:
  - name: demo
    rules:
      - alert: DemoDown
        expr: demo_up == 0
        labels:
          severity: critical
        annotations:
          summary: demo is down
`;

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

describe('real Prometheus → Alertmanager → webhook', () => {
  const received: WebhookBody[] = [];
  let receiver: Server;
  let exporter: ControlledExporter;
  let alertmanager: RunningServer | undefined;
  let prometheus: RunningServer | undefined;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookBody);
        res.writeHead(200).end();
      });
    });
    const receiverPort = await freePort();
    await new Promise<void>((resolve) => receiver.listen(receiverPort, '127.0.0.1', resolve));

    exporter = await startControlledExporter();
    exporter.set('demo_up', 1, { service: 'demo' });

    const t0 = Date.now();
    alertmanager = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${receiverPort}/hook` });
    const t1 = Date.now();
    prometheus = await startPrometheus({
      scrapeTargets: [exporter.target],
      rules: RULES,
      alertmanagerUrl: alertmanager.url,
    });
    console.log(`alertmanager ready in ${t1 - t0} ms, prometheus ready in ${Date.now() - t1} ms`);
  });

  afterAll(async () => {
    await prometheus?.stop();
    await alertmanager?.stop();
    await exporter?.stop();
    receiver?.closeAllConnections();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  });

  it('delivers a firing and then a resolved webhook for a rule driven by the exporter', async () => {
    // The rule must have seen a healthy value first, or a firing webhook proves nothing about the change.
    const tStart = Date.now();
    await waitFor(
      'prometheus to scrape demo_up=1',
      async () => {
        const res = await fetch(`${prometheus!.url}/api/v1/query?query=demo_up`);
        const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
        return body.data.result[0]?.value[1] === '1' ? true : undefined;
      },
      15_000,
    );
    const healthyMs = Date.now() - tStart;
    expect(received).toHaveLength(0);

    const tDown = Date.now();
    exporter.set('demo_up', 0, { service: 'demo' });
    const firing = await waitFor(
      'a firing webhook',
      () => received.find((b) => b.status === 'firing'),
      20_000,
    );
    const fireMs = Date.now() - tDown;

    expect(firing.version).toBe('4');
    expect(firing.alerts).toHaveLength(1);
    expect(firing.alerts[0]!.labels.alertname).toBe('DemoDown');
    expect(firing.alerts[0]!.labels.service).toBe('demo');
    expect(firing.alerts[0]!.labels.severity).toBe('critical');
    expect(firing.alerts[0]!.status).toBe('firing');

    const tUp = Date.now();
    exporter.set('demo_up', 1, { service: 'demo' });
    const resolved = await waitFor(
      'a resolved webhook',
      () => received.find((b) => b.status === 'resolved'),
      20_000,
    );
    const resolveMs = Date.now() - tUp;

    expect(resolved.version).toBe('4');
    expect(resolved.alerts[0]!.labels.alertname).toBe('DemoDown');
    expect(resolved.alerts[0]!.status).toBe('resolved');
    console.log(`first healthy scrape after ${healthyMs} ms; firing webhook ${fireMs} ms after demo_up=0, resolved webhook ${resolveMs} ms after demo_up=1`);
  });
});
