/**
 * Durable intake: how many alerts per second the webhook path commits, and at what latency,
 * next to a bare INSERT loop on the same embedded PostgreSQL in the same run. Also deliveries
 * carrying many alerts each (one group of --batch alerts), and the RSS of the service and of
 * PostgreSQL, idle and under that load. The last line is the one-line summary:
 *
 *   intake: <n> alerts/s (p99 <ms> ms) webhook vs <m> alerts/s bare insert: ratio <n/m>
 *
 *   npm run bench:intake -- [--alerts 3000] [--concurrency 16] [--rounds 3] [--batch 100] [--batch-deliveries 30] [--client raw|node]
 *
 * Both loops are measured the same way: the same number of concurrent senders, each waiting for its
 * answer before sending the next, both warmed up first (connections open, JIT warm), and interleaved in
 * --rounds rounds (webhook, bare, webhook, bare, ...) so a slow spell of the shared machine lands on both.
 * CPU is counted per process for each loop; "other" is what the rest of the machine used meanwhile: a run
 * where it is not near zero was disturbed.
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
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
    rounds: { type: 'string', default: '3' },
    batch: { type: 'string', default: '100' },
    'batch-deliveries': { type: 'string', default: '30' },
    client: { type: 'string', default: 'raw' },
  },
});
const ALERTS = Number(values.alerts);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Math.max(1, Number(values.rounds));
const CLIENT = values.client === 'node' ? 'node' : 'raw';
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

/** CPU seconds the hypervisor gave to someone else while this machine wanted them ("steal", /proc/stat). */
function stolenCpuSeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (fields[7] ?? 0) / 100;
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

/** One sender's connection: POSTs JSON and waits for the answer before the next (no pipelining). */
interface Sender {
  post(path: string, body: string): Promise<{ status: number; text: string }>;
  close(): void;
}

/**
 * node:http with keep-alive. The load generator shares the two cores with the service and PostgreSQL;
 * fetch (undici) cost ~1.2 ms of CPU per request here, node:http about half of that.
 */
function nodeHttpSender(agent: Agent, base: string): Sender {
  return {
    post: (path, body) =>
      new Promise((resolve, reject) => {
        const sent = request(`${base}${path}`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          response.on('error', reject);
        });
        sent.on('error', reject);
        sent.end(body);
      }),
    close: () => agent.destroy(),
  };
}

/**
 * The same requests (the headers node:http sends: Host, Content-Type, Content-Length, Connection) written
 * on a kept-alive socket, and the answer read by Content-Length: about a third of node:http's CPU per
 * request, which the service and PostgreSQL get instead. The server does the same work for either.
 */
function rawHttpSender(host: string, port: number): Promise<Sender> {
  return new Promise((ready, failed) => {
    const socket: Socket = connect({ host, port, noDelay: true }, () => ready(sender));
    let buffered: Buffer = Buffer.alloc(0);
    let waiting: { resolve(answer: { status: number; text: string }): void; reject(error: Error): void } | null = null;
    const fail = (error: Error) => {
      waiting?.reject(error);
      waiting = null;
    };
    socket.once('error', failed);
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      const headerEnd = buffered.indexOf('\r\n\r\n');
      if (headerEnd < 0 || !waiting) return;
      const head = buffered.toString('latin1', 0, headerEnd);
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? NaN);
      if (!Number.isFinite(length)) return fail(new Error(`answer without content-length: ${head}`));
      if (buffered.length < headerEnd + 4 + length) return;
      const answer = { status: Number(head.slice(9, 12)), text: buffered.toString('utf8', headerEnd + 4, headerEnd + 4 + length) };
      buffered = buffered.subarray(headerEnd + 4 + length);
      const done = waiting;
      waiting = null;
      done.resolve(answer);
    });
    const sender: Sender = {
      post: (path, body) =>
        new Promise((resolve, reject) => {
          waiting = { resolve, reject };
          socket.write(
            `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`,
          );
        }),
      close: () => socket.destroy(),
    };
  });
}

interface Run {
  seconds: number;
  latencies: number[];
}

/** `total` calls of `work`, `concurrency` at a time; each of the `concurrency` workers (0..) waits for its call before the next. */
async function runConcurrent(total: number, concurrency: number, work: (i: number, worker: number) => Promise<void>): Promise<Run> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        await work(i, worker);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

function combine(runs: Run[]): Run {
  return { seconds: runs.reduce((sum, r) => sum + r.seconds, 0), latencies: runs.flatMap((r) => r.latencies).sort((a, b) => a - b) };
}

/** CPU seconds by process while a loop ran: the service, PostgreSQL's processes, this process (the load generator), the rest. */
interface CpuUse {
  service: number;
  postgres: number;
  generator: number;
  other: number;
  machine: number;
  stolen: number;
}

function cpuMeter(servicePid: number, postmasterPid: number): () => () => CpuUse {
  const postgres = () => [postmasterPid, ...childPids(postmasterPid)].reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  return () => {
    const before = { service: cpuSeconds(servicePid), postgres: postgres(), generator: process.cpuUsage(), machine: machineCpuSeconds(), stolen: stolenCpuSeconds() };
    return () => {
      const g = process.cpuUsage(before.generator);
      const use = {
        service: cpuSeconds(servicePid) - before.service,
        postgres: postgres() - before.postgres,
        generator: (g.user + g.system) / 1e6,
        machine: machineCpuSeconds() - before.machine,
        stolen: stolenCpuSeconds() - before.stolen,
      };
      return { ...use, other: Math.max(0, use.machine - use.service - use.postgres - use.generator) };
    };
  };
}

function addCpu(a: CpuUse, b: CpuUse): CpuUse {
  return {
    service: a.service + b.service,
    postgres: a.postgres + b.postgres,
    generator: a.generator + b.generator,
    other: a.other + b.other,
    machine: a.machine + b.machine,
    stolen: a.stolen + b.stolen,
  };
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
    const senders = await Promise.all(Array.from({ length: CONCURRENCY }, () => (CLIENT === 'node' ? nodeHttpSender(agent, url) : rawHttpSender('127.0.0.1', port))));
    const hook = '/hooks/alertmanager/bench';
    // The embedded cluster's password is generated per data dir (older versions used a fixed one).
    const passwordFile = join(dataDir, 'postgres.password');
    const password = existsSync(passwordFile) ? readFileSync(passwordFile, 'utf8').trim() : 'responder-embedded';
    const databaseUrl = `postgres://responder:${encodeURIComponent(password)}@127.0.0.1:${config.database.embeddedPort}/responder`;
    const pool = new pg.Pool({ connectionString: databaseUrl, max: CONCURRENCY });
    await pool.query('CREATE TABLE IF NOT EXISTS bench_bare (id bigserial PRIMARY KEY, fingerprint text NOT NULL, payload jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now())');
    let failures = 0;
    const deliver = async (i: number, worker: number, run: string) => {
      const response = await senders[worker]!.post(hook, alertBody(i, run));
      if (response.status !== 202) failures++;
    };
    // A named (prepared) statement, as the service's intake statement is.
    const insert = async (i: number, run: string) => {
      await pool.query({ name: 'bench_bare_insert', text: 'INSERT INTO bench_bare (fingerprint, payload) VALUES ($1, $2)', values: [`${run}-${i}`, alertBody(i, run)] });
    };
    // Warm up both loops the same way before measuring: connections open (the pool's 16 included), JIT warm.
    await runConcurrent(200, CONCURRENCY, (i, worker) => deliver(i, worker, 'warm'));
    await runConcurrent(200, CONCURRENCY, (i) => insert(i, 'bare-warm'));

    let peakService = idle.service;
    let peakPostgres = idle.postgres;
    const sampler = setInterval(() => {
      const s = memoryKb(service.pid!);
      const p = postgresMemoryKb(postmasterPid);
      if (s.rss > peakService.rss) peakService = s;
      if (p.rss > peakPostgres.rss) peakPostgres = p;
    }, 200);
    const meter = cpuMeter(service.pid!, postmasterPid);
    const none: CpuUse = { service: 0, postgres: 0, generator: 0, other: 0, machine: 0, stolen: 0 };
    const webhookRuns: Run[] = [];
    const bareRuns: Run[] = [];
    let webhookCpu = none;
    let bareCpu = none;
    const perRound = Math.ceil(ALERTS / ROUNDS);
    for (let first = 0; first < ALERTS; first += perRound) {
      const count = Math.min(perRound, ALERTS - first);
      let stop = meter();
      webhookRuns.push(await runConcurrent(count, CONCURRENCY, (i, worker) => deliver(first + i, worker, 'run')));
      webhookCpu = addCpu(webhookCpu, stop());
      stop = meter();
      bareRuns.push(await runConcurrent(count, CONCURRENCY, (i) => insert(first + i, 'bare')));
      bareCpu = addCpu(bareCpu, stop());
    }
    clearInterval(sampler);
    const webhook = combine(webhookRuns);
    const bare = combine(bareRuns);

    // The same alerts arriving grouped: each delivery carries BATCH alerts (one statement, one transaction).
    const batched = await runConcurrent(BATCH_DELIVERIES, CONCURRENCY, async (d, worker) => {
      const response = await senders[worker]!.post(hook, groupBody(d * BATCH, 'batch', BATCH));
      const answer = JSON.parse(response.text) as { incidents?: unknown[] };
      if (response.status !== 202 || answer.incidents?.length !== BATCH) failures++;
    });
    await pool.end();
    for (const sender of senders) sender.close();

    const row = (name: string, r: Run, alerts = ALERTS) =>
      `| ${name} | ${(alerts / r.seconds).toFixed(0)} | ${percentile(r.latencies, 50).toFixed(1)} | ${percentile(r.latencies, 99).toFixed(1)} |`;
    const mb = (kb: number) => (kb / 1024).toFixed(0);
    console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
    console.log(
      `${ALERTS} alerts, ${CONCURRENCY} concurrent senders (${CLIENT === 'raw' ? 'keep-alive sockets' : 'node:http keep-alive'}), ${ROUNDS} interleaved rounds, embedded PostgreSQL, no route matched (pure durable intake)` +
        `${failures ? `, ${failures} non-202 answers` : ''}\n`,
    );
    console.log('| path | alerts/s | p50 ms | p99 ms (per request) |\n|---|---|---|---|');
    console.log(row('POST /hooks/alertmanager, 1 alert per delivery (validate, group, audit, commit)', webhook));
    console.log(row(`POST /hooks/alertmanager, ${BATCH} alerts per delivery (${BATCH_DELIVERIES} deliveries)`, batched, BATCH * BATCH_DELIVERIES));
    console.log(row('bare INSERT of the same JSON, same database', bare));
    const ms = (seconds: number) => ((seconds * 1000) / ALERTS).toFixed(2);
    const cpuRow = (name: string, use: CpuUse, r: Run) =>
      `| ${name} | ${ms(use.service)} | ${ms(use.postgres)} | ${ms(use.generator)} | ${ms(use.other)} | ${ms(use.machine)} | ${((100 * use.machine) / (r.seconds * cpus().length)).toFixed(0)}% | ${ms(use.stolen)} |`;
    console.log(
      `\n| CPU ms per alert | service | PostgreSQL (all processes) | load generator (this process) | other processes | whole machine | of ${cpus().length} cores busy | stolen by the hypervisor |\n|---|---|---|---|---|---|---|---|`,
    );
    console.log(cpuRow('webhook, 1 alert per delivery', webhookCpu, webhook));
    console.log(cpuRow('bare INSERT', bareCpu, bare));
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
