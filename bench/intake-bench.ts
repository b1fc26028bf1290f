/**
 * Durable intake: how many alerts per second the webhook path commits, and at what latency,
 * next to a bare INSERT loop on the same embedded PostgreSQL in the same run. Also deliveries
 * carrying many alerts each (one group of --batch alerts), and the RSS of the service and of
 * PostgreSQL, idle and under that load. The last line is the one-line summary:
 *
 *   intake: <n> alerts/s (p99 <ms> ms) webhook vs <m> alerts/s bare insert: ratio <n/m>
 *
 *   npm run bench:intake -- [--alerts 3000] [--concurrency 16] [--batch 100] [--batch-deliveries 30]
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { chmodSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { stringify } from 'yaml';
import { packageRoot } from '../src/config/package-paths.js';

const { values } = parseArgs({
  options: {
    alerts: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '16' },
    batch: { type: 'string', default: '100' },
    'batch-deliveries': { type: 'string', default: '30' },
  },
});
const ALERTS = Number(values.alerts);
const CONCURRENCY = Number(values.concurrency);
const BATCH = Number(values.batch);
const BATCH_DELIVERIES = Number(values['batch-deliveries']);

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

/** CPU seconds every process on the machine has used so far (user + nice + system, from /proc/stat). */
function machineCpuSeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return ((fields[0] ?? 0) + (fields[1] ?? 0) + (fields[2] ?? 0)) / 100;
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

/**
 * POSTs JSON over keep-alive node:http. The load generator shares the two cores with the service and
 * PostgreSQL; fetch (undici) cost ~1.2 ms of CPU per request here, node:http about half of that.
 */
function postJson(agent: Agent, url: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const sent = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    sent.on('error', reject);
    sent.end(body);
  });
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

function benchAlert(i: number, run: string) {
  return {
    status: 'firing',
    labels: { alertname: `Bench${i}`, severity: 'warning', instance: `host${i % 50}:9100`, job: 'node' },
    annotations: { summary: 'bench alert', description: 'x'.repeat(200) },
    startsAt: new Date().toISOString(),
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus:9090/graph?g0.expr=up+%3D%3D+0',
    fingerprint: `${run}-${i}`,
  };
}

/** One Alertmanager delivery: a group of `size` alerts (alert numbers first .. first+size-1). */
function groupBody(first: number, run: string, size = 1) {
  return JSON.stringify({
    version: '4',
    groupKey: `{}:{alertname="Bench${first}"}`,
    status: 'firing',
    receiver: 'responder',
    groupLabels: { alertname: `Bench${first}` },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    truncatedAlerts: 0,
    alerts: Array.from({ length: size }, (_, k) => benchAlert(first + k, run)),
  });
}

function alertBody(i: number, run: string) {
  return groupBody(i, run, 1);
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

    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const hook = `${url}/hooks/alertmanager/bench`;
    // Warm up connections and JIT before measuring.
    await runConcurrent(200, CONCURRENCY, (i) => postJson(agent, hook, alertBody(i, 'warm')).then(() => {}));

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
    const generatorCpuBefore = process.cpuUsage();
    const machineCpuBefore = machineCpuSeconds();
    let failures = 0;
    const webhook = await runConcurrent(ALERTS, CONCURRENCY, async (i) => {
      const response = await postJson(agent, hook, alertBody(i, 'run'));
      if (response.status !== 202) failures++;
    });
    clearInterval(sampler);
    const serviceCpu = cpuSeconds(service.pid!) - serviceCpuBefore;
    const backendsCpu = childPids(postmasterPid).reduce((sum, pid) => sum + cpuSeconds(pid), 0) - backendsCpuBefore;
    const generatorUsage = process.cpuUsage(generatorCpuBefore);
    const generatorCpu = (generatorUsage.user + generatorUsage.system) / 1e6;
    const machineCpu = machineCpuSeconds() - machineCpuBefore;

    // The same alerts arriving grouped: each delivery carries BATCH alerts (one statement, one transaction).
    const batched = await runConcurrent(BATCH_DELIVERIES, CONCURRENCY, async (d) => {
      const response = await postJson(agent, hook, groupBody(d * BATCH, 'batch', BATCH));
      const answer = JSON.parse(response.text) as { incidents?: unknown[] };
      if (response.status !== 202 || answer.incidents?.length !== BATCH) failures++;
    });

    const databaseUrl = `postgres://responder:responder-embedded@127.0.0.1:${config.database.embeddedPort}/responder`;
    const pool = new pg.Pool({ connectionString: databaseUrl, max: CONCURRENCY });
    await pool.query('CREATE TABLE IF NOT EXISTS bench_bare (id bigserial PRIMARY KEY, fingerprint text NOT NULL, payload jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now())');
    const bare = await runConcurrent(ALERTS, CONCURRENCY, async (i) => {
      await pool.query('INSERT INTO bench_bare (fingerprint, payload) VALUES ($1, $2)', [`bare-${i}`, alertBody(i, 'bare')]);
    });
    await pool.end();
    agent.destroy();

    const row = (name: string, r: { seconds: number; latencies: number[] }, alerts = ALERTS) =>
      `| ${name} | ${(alerts / r.seconds).toFixed(0)} | ${percentile(r.latencies, 50).toFixed(1)} | ${percentile(r.latencies, 99).toFixed(1)} |`;
    const mb = (kb: number) => (kb / 1024).toFixed(0);
    console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
    console.log(`${ALERTS} alerts, ${CONCURRENCY} concurrent senders, embedded PostgreSQL, no route matched (pure durable intake)${failures ? `, ${failures} non-202 answers` : ''}\n`);
    console.log('| path | alerts/s | p50 ms | p99 ms (per request) |\n|---|---|---|---|');
    console.log(row('POST /hooks/alertmanager, 1 alert per delivery (validate, group, audit, commit)', webhook));
    console.log(row(`POST /hooks/alertmanager, ${BATCH} alerts per delivery (${BATCH_DELIVERIES} deliveries)`, batched, BATCH * BATCH_DELIVERIES));
    console.log(row('bare INSERT of the same JSON, same database', bare));
    const perAlert = (seconds: number) => `${((seconds * 1000) / ALERTS).toFixed(2)} ms`;
    console.log(
      `\nCPU per accepted alert (1 alert per delivery): service ${perAlert(serviceCpu)}, PostgreSQL backends ${perAlert(backendsCpu)}, ` +
        `load generator ${perAlert(generatorCpu)}; whole machine ${perAlert(machineCpu)}, ${((100 * machineCpu) / (webhook.seconds * cpus().length)).toFixed(0)}% of ${cpus().length} cores busy`,
    );
    console.log(`\n| memory | idle RSS MB | load peak RSS MB | idle PSS MB |\n|---|---|---|---|`);
    console.log(`| service (node) | ${mb(idle.service.rss)} | ${mb(peakService.rss)} | ${mb(idle.service.pss)} |`);
    console.log(`| PostgreSQL (all processes) | ${mb(idle.postgres.rss)} | ${mb(peakPostgres.rss)} | ${mb(idle.postgres.pss)} |`);
    const webhookRate = ALERTS / webhook.seconds;
    const bareRate = ALERTS / bare.seconds;
    console.log(
      `\nintake: ${webhookRate.toFixed(0)} alerts/s (p99 ${percentile(webhook.latencies, 99).toFixed(1)} ms) webhook vs ${bareRate.toFixed(0)} alerts/s bare insert: ratio ${(webhookRate / bareRate).toFixed(2)}`,
    );
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
