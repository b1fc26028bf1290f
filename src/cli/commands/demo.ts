import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { sealAllAuditEvents } from '../../audit/seal.js';
import { verifyAuditChain } from '../../audit/verify.js';
import { ConfigSchema } from '../../config/config.schema.js';
import { packageRoot } from '../../config/package-paths.js';
import { isTerminal } from '../../domain/incident.js';
import { freePort } from '../../eval/free-port.js';
import { startResponder, type RunningResponder } from '../../main.js';
import { createPool } from '../../database/database.js';
import type { IncidentRecord } from '../../domain/incident-record.js';
import type { CliContext } from '../cli-context.js';
import { stopProcessesMentioning } from '../leftover-processes.js';
import { startPidfileService, type PidfileService } from '../pidfile-service.js';
import { onShutdownSignal } from '../shutdown-signals.js';

export const DEMO_APPROVER = 'demo-auto-approver (responder demo; not a person)';

async function waitForState(url: string, token: string, id: string, done: (state: string) => boolean, timeoutMs: number): Promise<IncidentRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = (await (await fetch(`${url}/api/v1/incidents/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as IncidentRecord;
    if (done(record.state) || Date.now() > deadline) return record;
    await new Promise((r) => setTimeout(r, 250));
  }
}

function printStory(record: IncidentRecord, print: (line: string) => void): void {
  print(`\nIncident ${record.id}: ${record.alertName} on ${record.instance ?? '?'} — final state ${record.state.toUpperCase()}`);
  if (record.stateReason) print(`  ${record.stateReason}`);
  print('\nStory (audit trail):');
  for (const event of record.audit) {
    const data = event.data as Record<string, unknown>;
    const what =
      event.kind === 'incident.state'
        ? `${String(data.from)} → ${String(data.to)}${data.reason ? ` (${String(data.reason)})` : ''}`
        : event.kind === 'policy.decision'
          ? `policy: ${JSON.stringify(data.decision)}`
          : event.kind === 'run.claimed'
            ? `${String(data.kind)} of ${String(data.action)} claimed`
            : event.kind === 'run.finished'
              ? `run finished: ${String(data.state)} (exit ${String(data.exitCode ?? '-')})`
              : event.kind === 'approval.requested'
                ? `asks ${String(data.approvalsRequired)} person(s) to approve ${String(data.action)} ${JSON.stringify(data.inputs)} (round ${String(data.round)})`
                : event.kind === 'approval.granted' || event.kind === 'approval.rejected'
                  ? `${event.kind === 'approval.granted' ? 'approves' : 'rejects'} round ${String(data.round)}: ${String(data.reason)}`
                  : event.kind;
    print(`  #${event.seq ?? '(unsealed)'} ${event.at}  ${event.actor.padEnd(24)} ${what}`);
  }
  for (const run of record.runs) {
    print(`\n${run.kind} of ${run.actionId} → ${run.state} (exit ${run.exitCode ?? '-'})`);
    const recap = (run.output ?? '').split('\n').filter((l) => l.startsWith('PLAY RECAP') || /ok=\d+/.test(l));
    for (const line of recap) print(`  ${line.trim()}`);
  }
}

/**
 * Runs the whole loop offline on the embedded default and prints what happened. Returns the exit code.
 * Free ports and a scratch directory of its own let it run beside a service; whatever happens, and on
 * SIGINT/SIGTERM when handleSignals is set, it stops what it started and removes the scratch directory.
 */
export async function runDemo(options: { dataDir?: string; print?: (line: string) => void; handleSignals?: boolean }): Promise<number> {
  const print = options.print ?? ((line: string) => console.log(line));
  const scratch = mkdtempSync(join(tmpdir(), 'responder-demo-'));
  const owned: DemoResources = {};
  let cleaning: Promise<void> | null = null;
  const cleanup = () =>
    (cleaning ??= (async () => {
      // A start still under way is waited for, so the PostgreSQL it is starting is stopped too.
      const running = await owned.responder?.catch(() => null);
      await running?.stop();
      owned.service?.stop();
      // A playbook the service had started when the demo was interrupted runs out of the scratch directory.
      await stopProcessesMentioning(scratch);
      rmSync(scratch, { recursive: true, force: true });
    })());
  if (options.handleSignals) {
    onShutdownSignal(
      async () => {
        await cleanup();
        process.exit(130);
      },
      { deadlineMs: 40_000 },
    );
  }
  try {
    return await demoIn(scratch, options.dataDir, owned, print);
  } finally {
    await cleanup();
  }
}

/** What the demo started, for its cleanup to stop. */
interface DemoResources {
  service?: PidfileService;
  responder?: Promise<RunningResponder>;
}

async function demoIn(scratch: string, dataDir: string | undefined, owned: DemoResources, print: (line: string) => void): Promise<number> {
  const root = packageRoot();
  // The embedded PostgreSQL runs as the postgres user when the demo runs as root: it must reach its directory.
  chmodSync(scratch, 0o755);
  const service = startPidfileService(scratch);
  owned.service = service;
  const token = randomBytes(16).toString('hex');
  const config = ConfigSchema.parse({
    dataDir: dataDir ?? join(scratch, 'data'),
    server: { port: 0 },
    database: { embeddedPort: await freePort() },
    intake: { key: 'demo' },
    auth: { tokens: [{ name: DEMO_APPROVER, token }] },
    routes: [{ name: 'demo', matchers: ['agentic="true"'], mode: 'approve' }],
    execution: { catalogDir: join(root, 'examples/demo/remediations'), inventory: join(root, 'examples/demo/remediations/inventory.ini'), timeoutSeconds: 120 },
    policy: { policyDir: join(root, 'policies') },
    log: { level: 'warn' },
  });
  print('Starting Responder on the embedded default (embedded PostgreSQL, the in-process policy bundle, no LLM)…');
  owned.responder = startResponder(config, { log: pino({ level: 'warn' }) });
  const running = await owned.responder;
  const pidBefore = service.pid();
  const firing = {
    version: '4',
    groupKey: '{}:{alertname="DemoServiceWedged"}',
    status: 'firing',
    receiver: 'responder',
    groupLabels: { alertname: 'DemoServiceWedged' },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.demo:9093',
    truncatedAlerts: 0,
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'DemoServiceWedged', severity: 'warning', service: 'demo-service', host: 'localhost', instance: 'localhost:9999', agentic: 'true' },
        annotations: {
          summary: 'demo-service stopped answering health checks',
          remediation: 'restart-process',
          pidfile: service.pidfile,
          start_command: service.command,
        },
        startsAt: new Date().toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.demo:9090/graph?g0.expr=demo_service_up+%3D%3D+0',
        fingerprint: `demo${randomBytes(6).toString('hex')}`,
      },
    ],
  };
  print(`Sending a sample Alertmanager alert to ${running.url}/hooks/alertmanager/…`);
  const accepted = await fetch(`${running.url}/hooks/alertmanager/demo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(firing) });
  const { incidents } = (await accepted.json()) as { incidents: { id: string }[] };
  const id = incidents[0]!.id;
  print(`  ${accepted.status} Accepted: incident ${id}`);
  const waiting = await waitForState(running.url, token, id, (s) => s === 'awaiting_approval' || isTerminal(s as never), 120_000);
  const decision = (waiting.decision ?? {}) as { allow?: boolean; deny?: string[]; approvals_required?: number };
  print(`  dry-run: ${(waiting.dryRun as { outcome?: string } | null)?.outcome ?? 'not run'}; policy: ${decision.allow ? `allowed, ${decision.approvals_required} approval(s) required` : `denied (${(decision.deny ?? []).join('; ')})`}`);
  if (waiting.state === 'awaiting_approval') {
    print(`Approving as "${DEMO_APPROVER}"…`);
    await fetch(`${running.url}/api/v1/incidents/${id}/resume`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ approved: true, reason: 'automatic approval by `responder demo`' }),
    });
  }
  await waitForState(running.url, token, id, (s) => isTerminal(s as never), 180_000);
  const pool = createPool(running.databaseUrl, 1);
  await sealAllAuditEvents(pool, running.auditKey);
  const final = await waitForState(running.url, token, id, () => true, 0);
  printStory(final, print);
  print(`\nDemo service pid before ${pidBefore}, after ${service.pid()}${pidBefore !== service.pid() ? ' — restarted by the real ansible-playbook' : ''}.`);
  const chain = await verifyAuditChain(pool, { keys: [running.auditKey] }).finally(() => pool.end());
  print(chain.ok ? `Audit chain verified: ${chain.events} events, head ${chain.head.slice(0, 16)}…` : `Audit chain BROKEN: ${chain.problem}`);
  // The demo runs no Prometheus: the restart cannot be verified, and the incident says so (unverified, never resolved).
  if (final.state === 'unverified') print('No Prometheus in the demo, so the restart is unverified; with prometheus.url set, the alert rule decides resolved or failed.');
  return (final.state === 'resolved' || final.state === 'unverified') && chain.ok ? 0 : 1;
}

export function registerDemoCommand(program: Command, _cli: CliContext): void {
  program
    .command('demo')
    .description('offline, no LLM: send a sample alert through the whole loop on the embedded default and print the story')
    .option('--data-dir <dir>', 'keep the demo database here (default: a temporary directory, removed afterwards)')
    .action(async (options: { dataDir?: string }) => {
      process.exitCode = await runDemo({ dataDir: options.dataDir, handleSignals: true });
    });
}
