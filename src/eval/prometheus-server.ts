import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.js';

export interface RunningServer {
  /** http://127.0.0.1:<port>, no trailing slash. */
  url: string;
  port: number;
  /** Temp dir holding config, storage and server.log; removed by stop(). */
  dir: string;
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  name: string;
  bin: string;
  dir: string;
  args(port: number): string[];
  readyPath: string;
  readyTimeoutMs?: number;
}

// Children run in their own process group so a stop (or a dying test worker) takes down anything
// they spawned; this set lets the exit hook below reap groups a failed test never stopped.
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pgid of liveGroups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

export function tailFile(path: string, lines = 40): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log written)';
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

async function killGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // group already empty
    }
  };
  signalGroup('SIGTERM');
  if (!(await waitForExit(child, 5_000))) {
    signalGroup('SIGKILL');
    await waitForExit(child, 5_000);
  }
  liveGroups.delete(pid);
}

async function isReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Starts one server binary on a free loopback port and waits for its readiness endpoint. Shared by
 * the Prometheus and Alertmanager helpers, which differ only in flags and config.
 */
export async function startServerProcess(opts: ServerProcessOptions): Promise<RunningServer> {
  installExitHook();
  const logPath = join(opts.dir, 'server.log');
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  let lastError = '';

  // freePort() releases the port before the server binds it; retry if something took it meanwhile.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const logFd = openSync(logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(opts.bin, opts.args(port), {
        cwd: opts.dir,
        detached: true,
        stdio: ['ignore', logFd, logFd],
      });
    } finally {
      closeSync(logFd);
    }
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });
    if (child.pid !== undefined) liveGroups.add(child.pid);

    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + readyTimeoutMs;
    let ready = false;
    let failure: string | undefined;
    while (Date.now() < deadline) {
      if (spawnError) {
        failure = `could not spawn ${opts.bin}: ${spawnError.message}`;
        break;
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        failure = `${opts.name} exited early (code ${child.exitCode}, signal ${child.signalCode})`;
        break;
      }
      if (await isReady(`${url}${opts.readyPath}`)) {
        ready = true;
        break;
      }
      await sleep(100);
    }

    if (ready) {
      let stopping: Promise<void> | undefined;
      return {
        url,
        port,
        dir: opts.dir,
        stop() {
          stopping ??= (async () => {
            await killGroup(child);
            await rm(opts.dir, { recursive: true, force: true });
          })();
          return stopping;
        },
      };
    }

    await killGroup(child);
    const tail = tailFile(logPath);
    lastError = `${failure ?? `${opts.name} not ready at ${url}${opts.readyPath} within ${readyTimeoutMs} ms`}\n--- ${logPath} (tail) ---\n${tail}`;
    if (!/address already in use/i.test(tail)) break;
  }

  await rm(opts.dir, { recursive: true, force: true });
  throw new Error(lastError);
}

/** Where the Prometheus and promtool executables are; the Debian package's paths unless given. */
export interface PrometheusBinaries {
  prometheusBinary?: string;
  promtoolBinary?: string;
}

export const DEFAULT_PROMETHEUS_BINARY = '/usr/bin/prometheus';

export const DEFAULT_PROMTOOL_BINARY = '/usr/bin/promtool';

export interface PrometheusOptions extends PrometheusBinaries {
  /** host:port of each target, scraped at /metrics. */
  scrapeTargets: string[];
  /** Content of one rule file (YAML with `groups:`). */
  rules: string;
  /** e.g. http://127.0.0.1:9093; alerts go nowhere when omitted. */
  alertmanagerUrl?: string;
  scrapeInterval?: string;
  evaluationInterval?: string;
  /**
   * Default true: return only after every target was scraped once (up or not) and the
   * Alertmanager is discovered. Prometheus 2.42 applies targets on a fixed 5 s reload tick, so
   * `/-/ready` alone leaves a window in which queries see no series at all.
   */
  waitForTargets?: boolean;
  /** Keep the target's own job/instance labels, so live series continue backfilled ones. */
  honorLabels?: boolean;
  /** OpenMetrics text (ending `# EOF`) written into the TSDB with promtool before start: planted history. */
  backfill?: string;
}

function alertmanagerConfig(alertmanagerUrl: string): Record<string, unknown> {
  const parsed = new URL(alertmanagerUrl);
  const pathPrefix = parsed.pathname.replace(/\/+$/, '');
  return {
    scheme: parsed.protocol.replace(/:$/, ''),
    ...(pathPrefix ? { path_prefix: pathPrefix } : {}),
    api_version: 'v2',
    // Default is 10s; a test that stops Alertmanager first should not hang on a long push.
    timeout: '2s',
    static_configs: [{ targets: [parsed.host] }],
  };
}

/** A real Prometheus with throwaway config and TSDB, listening on a free loopback port. */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningServer> {
  const scrapeInterval = options.scrapeInterval ?? '1s';
  const evaluationInterval = options.evaluationInterval ?? '1s';
  const dir = await mkdtemp(join(tmpdir(), 'responder-prometheus-'));

  // JSON is valid YAML, and it spares a hand-written YAML emitter for the config.
  const config = {
    global: {
      scrape_interval: scrapeInterval,
      // Must not exceed the interval, and 1s scrapes would otherwise time out at the 10s default.
      scrape_timeout: scrapeInterval,
      evaluation_interval: evaluationInterval,
    },
    rule_files: [join(dir, 'rules.yml')],
    scrape_configs: [
      {
        job_name: 'test',
        ...(options.honorLabels ? { honor_labels: true } : {}),
        static_configs: [{ targets: options.scrapeTargets }],
      },
    ],
    ...(options.alertmanagerUrl
      ? { alerting: { alertmanagers: [alertmanagerConfig(options.alertmanagerUrl)] } }
      : {}),
  };
  try {
    await writeFile(join(dir, 'rules.yml'), options.rules);
    await writeFile(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
    if (options.backfill) {
      await writeFile(join(dir, 'backfill.om'), options.backfill);
      const result = spawnSync(options.promtoolBinary ?? DEFAULT_PROMTOOL_BINARY, ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'backfill.om'), join(dir, 'data')], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`promtool could not backfill: ${result.error?.message ?? ''}${result.stderr}${result.stdout}`);
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  const server = await startServerProcess({
    name: 'prometheus',
    bin: options.prometheusBinary ?? DEFAULT_PROMETHEUS_BINARY,
    dir,
    readyPath: '/-/ready',
    args: (port) => [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=http://127.0.0.1:${port}/`,
      '--log.level=info',
    ],
  });

  if (options.waitForTargets ?? true) {
    try {
      await waitForDiscovery(server.url, options.scrapeTargets.length, options.alertmanagerUrl !== undefined);
    } catch (err) {
      const tail = tailFile(join(dir, 'server.log'));
      await server.stop();
      throw new Error(`${(err as Error).message}\n--- prometheus log (tail) ---\n${tail}`);
    }
  }
  return server;
}

async function getJson<T>(url: string): Promise<T | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

async function waitForDiscovery(url: string, targetCount: number, wantAlertmanager: boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  let state = 'no answer';
  while (Date.now() < deadline) {
    const targets = await getJson<{ data: { activeTargets: { lastScrape: string }[] } }>(
      `${url}/api/v1/targets?state=active`,
    );
    // Before its first scrape a target reports Go's zero time.
    const scraped = targets?.data.activeTargets.filter((t) => !t.lastScrape.startsWith('0001-')).length ?? 0;
    let alertmanagers = 0;
    if (wantAlertmanager) {
      const am = await getJson<{ data: { activeAlertmanagers: unknown[] } }>(`${url}/api/v1/alertmanagers`);
      alertmanagers = am?.data.activeAlertmanagers.length ?? 0;
    }
    state = `${scraped}/${targetCount} targets scraped, ${alertmanagers} alertmanagers discovered`;
    if (scraped >= targetCount && (!wantAlertmanager || alertmanagers > 0)) return;
    await sleep(100);
  }
  throw new Error(`prometheus at ${url} did not finish discovery in 20 s: ${state}`);
}
