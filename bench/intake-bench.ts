/**
 * Durable intake: how many alerts per second the webhook path commits, and at what latency,
 * next to a bare INSERT loop on the same embedded PostgreSQL in the same run. Also the RSS of
 * the service and of PostgreSQL, idle and under that load.
 *
 *   npm run bench:intake -- [--alerts 3000] [--concurrency 16]
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { stringify } from 'yaml';
import { packageRoot } from '../src/config/package-paths.js';

const { values } = parseArgs({ options: { alerts: { type: 'string', default: '3000' }, concurrency: { type: 'string', default: '16' } } });
const ALERTS = Number(values.alerts);
const CONCURRENCY = Number(values.concurrency);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function memoryKb(pid: number): { rss: number; pss: number } {
  const read = (file: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'))?.[1] ?? 0);
  try {
    return { rss: read(`/proc/${pid}/status`, 'VmRSS'), pss: existsSync(`/proc/${pid}/smaps_rollup`) ? read(`/proc/${pid}/smaps_rollup`, 'Pss') : 0 };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function childPids(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]) === parent) pids.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}

/** PostgreSQL is a postmaster plus one process per backend; its footprint is their sum (PSS counts shared buffers once). */
function postgresMemoryKb(postmasterPid: number): { rss: number; pss: number } {
  const pids = [postmasterPid];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]);
      if (ppid === postmasterPid) pids.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return pids.map(memoryKb).reduce((a, b) => ({ rss: a.rss + b.rss, pss: a.pss + b.pss }), { rss: 0, pss: 0 });
}

async function runConcurrent(total: number, concurrency: number, work: (i: number) => Promise<void>): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        await work(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

function alertBody(i: number, run: string) {
  return JSON.stringify({
    version: '4',
    groupKey: `{}:{alertname="Bench${i}"}`,
    status: 'firing',
    receiver: 'responder',
    groupLabels: { alertname: `Bench${i}` },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    truncatedAlerts: 0,
    alerts: [
      {
        status: 'firing',
        labels: { alertname: `Bench${i}`, severity: 'warning', instance: `host${i % 50}:9100`, job: 'node' },
        annotations: { summary: 'bench alert', description: 'x'.repeat(200) },
        startsAt: new Date().toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus:9090/graph?g0.expr=up+%3D%3D+0',
        fingerprint: `${run}-${i}`,
      },
    ],
  });
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('service did not become ready');
}

async function main(): Promise<void> {
  const root = packageRoot();
  const dataDir = mkdtempSync(join(tmpdir(), 'responder-bench-'));
  chmodSync(dataDir, 0o755);
  const port = 18000 + Math.floor(Math.random() * 1000);
  const config = {
    dataDir,
    server: { port },
    database: { embeddedPort: port + 1000 },
    intake: { key: 'bench' },
    policy: { policyDir: join(root, 'policies') },
    log: { level: 'warn' },
  };
  writeFileSync(join(dataDir, 'responder.yaml'), stringify(config));
  const log = openSync(join(dataDir, 'service.log'), 'a');
  const service = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), join(root, 'dist/src/cli/main.js'), 'serve', '--config', join(dataDir, 'responder.yaml')], { stdio: ['ignore', log, log] });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url);
    const postmasterPid = Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    await new Promise((r) => setTimeout(r, 2000));
    const idle = { service: memoryKb(service.pid!), postgres: postgresMemoryKb(postmasterPid) };

    // Warm up connections and JIT before measuring.
    await runConcurrent(200, CONCURRENCY, (i) => fetch(`${url}/hooks/alertmanager/bench`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: alertBody(i, 'warm') }).then((r) => void r.arrayBuffer()));

    let peakService = idle.service;
    let peakPostgres = idle.postgres;
    const sampler = setInterval(() => {
      const s = memoryKb(service.pid!);
      const p = postgresMemoryKb(postmasterPid);
      if (s.rss > peakService.rss) peakService = s;
      if (p.rss > peakPostgres.rss) peakPostgres = p;
    }, 200);
    const serviceCpuBefore = cpuSeconds(service.pid!);
    const backendsCpuBefore = childPids(postmasterPid).reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    let failures = 0;
    const webhook = await runConcurrent(ALERTS, CONCURRENCY, async (i) => {
      const response = await fetch(`${url}/hooks/alertmanager/bench`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: alertBody(i, 'run') });
      await response.arrayBuffer();
      if (response.status !== 202) failures++;
    });
    clearInterval(sampler);
    const serviceCpu = cpuSeconds(service.pid!) - serviceCpuBefore;
    const backendsCpu = childPids(postmasterPid).reduce((sum, pid) => sum + cpuSeconds(pid), 0) - backendsCpuBefore;

    const databaseUrl = `postgres://responder:responder-embedded@127.0.0.1:${config.database.embeddedPort}/responder`;
    const pool = new pg.Pool({ connectionString: databaseUrl, max: CONCURRENCY });
    await pool.query('CREATE TABLE IF NOT EXISTS bench_bare (id bigserial PRIMARY KEY, fingerprint text NOT NULL, payload jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now())');
    const bare = await runConcurrent(ALERTS, CONCURRENCY, async (i) => {
      await pool.query('INSERT INTO bench_bare (fingerprint, payload) VALUES ($1, $2)', [`bare-${i}`, alertBody(i, 'bare')]);
    });
    await pool.end();

    const row = (name: string, r: { seconds: number; latencies: number[] }) =>
      `| ${name} | ${(ALERTS / r.seconds).toFixed(0)} | ${percentile(r.latencies, 50).toFixed(1)} | ${percentile(r.latencies, 99).toFixed(1)} |`;
    const mb = (kb: number) => (kb / 1024).toFixed(0);
    console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
    console.log(`${ALERTS} alerts, ${CONCURRENCY} concurrent senders, embedded PostgreSQL, no route matched (pure durable intake)${failures ? `, ${failures} non-202 answers` : ''}\n`);
    console.log('| path | alerts/s | p50 ms | p99 ms |\n|---|---|---|---|');
    console.log(row('POST /hooks/alertmanager (validate, group, audit, commit)', webhook));
    console.log(row('bare INSERT, same database', bare));
    console.log(`\nCPU per accepted alert: service ${((serviceCpu * 1000) / ALERTS).toFixed(2)} ms, PostgreSQL backends ${((backendsCpu * 1000) / ALERTS).toFixed(2)} ms (2 cores shared with the load generator)`);
    console.log(`\n| memory | idle RSS MB | load peak RSS MB | idle PSS MB |\n|---|---|---|---|`);
    console.log(`| service (node) | ${mb(idle.service.rss)} | ${mb(peakService.rss)} | ${mb(idle.service.pss)} |`);
    console.log(`| PostgreSQL (all processes) | ${mb(idle.postgres.rss)} | ${mb(peakPostgres.rss)} | ${mb(idle.postgres.pss)} |`);
  } finally {
    service.kill('SIGTERM');
    await new Promise((r) => service.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
