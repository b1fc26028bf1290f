import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerProcess, type RunningServer } from '../../src/eval/prometheus-server.js';

export interface AlertmanagerOptions {
  /** Every alert is routed here, firing and resolved. */
  webhookUrl: string;
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
}

export const ALERTMANAGER_BIN = process.env.ALERTMANAGER_BIN ?? '/usr/bin/prometheus-alertmanager';

/** A real Alertmanager, single node, with throwaway config and storage on a free loopback port. */
export async function startAlertmanager(options: AlertmanagerOptions): Promise<RunningServer> {
  const dir = await mkdtemp(join(tmpdir(), 'responder-alertmanager-'));
  const config = {
    route: {
      receiver: 'webhook',
      group_by: ['alertname'],
      group_wait: options.groupWait ?? '1s',
      group_interval: options.groupInterval ?? '1s',
      repeat_interval: options.repeatInterval ?? '1h',
    },
    receivers: [
      {
        name: 'webhook',
        webhook_configs: [{ url: options.webhookUrl, send_resolved: true }],
      },
    ],
  };
  try {
    // JSON is valid YAML, and it spares a hand-written YAML emitter for the config.
    await writeFile(join(dir, 'alertmanager.yml'), JSON.stringify(config, null, 2));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  return startServerProcess({
    name: 'alertmanager',
    bin: ALERTMANAGER_BIN,
    dir,
    readyPath: '/-/ready',
    args: (port) => [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=http://127.0.0.1:${port}/`,
      // Empty disables HA gossip: otherwise it binds 0.0.0.0:9094 (clashing between parallel
      // instances) and holds notifications until the cluster "settles", up to a minute.
      '--cluster.listen-address=',
    ],
  });
}
