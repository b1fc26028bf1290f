import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { createInvestigator } from './agent/create-investigator.js';
import { missingModelReason } from './agent/language-model.js';
import { derivedSecret, loadOrCreateAuditKey, type AuditKey } from './audit/audit-key.js';
import { startConfiguredAuditTrail } from './audit/audit-trail.js';
import type { Config } from './config/config.schema.js';
import { resolveShippedPath } from './config/package-paths.js';
import { inheritedEnvironment } from './config/process-environment.js';
import { createAnsibleExecutor } from './execution/ansible-executor.js';
import { configuredRemoteExecutors, createExecutorRegistry } from './execution/executor-registry.js';
import { createApp } from './http/app.js';
import { intakeFastPath, type IntakeRouteDeps } from './http/intake-routes.js';
import { addAuditShippingMetrics, addOutboxMetrics, createMetrics } from './http/metrics.js';
import { createConfiguredPolicyGate } from './policy/create-policy-gate.js';
import { loadCatalog } from './remediation/catalog.js';
import { watchInventoryHosts } from './remediation/inventory-hosts.js';
import { createPool } from './database/database.js';
import { lockDataDir } from './database/data-dir-lock.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './database/embedded-postgres.js';
import { createApprovalStore } from './store/approvals.js';
import { createApprovalAnnouncer } from './approval/approval-announcer.js';
import { createDecisionRateLimiter } from './approval/decision-rate-limiter.js';
import { escalateExpiredApproval } from './approval/escalation.js';
import { submitDecision, type DecisionDeps } from './approval/submit-decision.js';
import { startMatrixBot } from './approval/matrix/matrix-bot.js';
import { withdrawDecision } from './approval/withdraw-decision.js';
import { createMatrixCardStore } from './store/matrix-cards.js';
import { createOutboxStore } from './store/outbox.js';
import { matrixNoticeSubscriber } from './approval/matrix/matrix-notice-subscriber.js';
import { startNotifications } from './notify/start-notifications.js';
import { createChangeFeed } from './http/change-feed.js';
import { createAuthFailureLimiter } from './http/auth-failure-limiter.js';
import { createIdentityResolver } from './http/identity.js';
import { ensurePortFree, listen } from './http/listen.js';
import { createWebSessions } from './http/web-sessions.js';
import { createIncidentRecordReader } from './store/incident-records.js';
import { createIncidentStore } from './store/incidents.js';
import { createInvestigationStore } from './store/investigations.js';
import { createRunStore } from './store/runs.js';
import { createWebSessionStore } from './store/web-sessions.js';
import { createNotificationStore } from './store/notifications.js';
import { migrate } from './database/migrations.js';
import { createBuiltinMcpServer } from './tools/builtin-mcp-server.js';
import { createLokiApi } from './tools/loki-api.js';
import { createPrometheusApi } from './tools/prometheus-api.js';
import { RESPONDER_VERSION } from './version.js';
import { createPrometheusClient } from './verification/prometheus-client.js';
import { resolveTrustedExpression } from './verification/trusted-expression.js';
import { APPROVAL_TOPIC, workflowIdFor, type ApprovalMessage } from './workflow/approval-message.js';
import { send, startDurableRuntime, stopDurableRuntime, withIdleTransactionTimeout } from './workflow/durable-runtime.js';
import { failWorkflowsOfOlderReleases } from './workflow/older-release-workflows.js';
import { claimReplicaId, startReplicaWatch } from './workflow/replicas.js';
import { registerIncidentWorkflow } from './workflow/respond-to-incident.js';

export interface RunningResponder {
  url: string;
  port: number;
  intakeKey: string;
  databaseUrl: string;
  /** The key sealing the audit chain (tests and the demo verify with it). */
  auditKey: AuditKey;
  log: Logger;
  stop(): Promise<void>;
}

const SWEEP_INTERVAL_MS = 30_000;

/** The intake key from config, or one generated once into dataDir so a fresh install is never open. */
function resolveIntakeKey(config: Config, log: Logger): string {
  if (config.intake.key) return config.intake.key;
  const file = join(resolve(config.dataDir), 'intake.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = randomBytes(24).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  log.warn({ file }, 'no intake.key configured; generated one');
  return key;
}

export async function startResponder(config: Config, options: { log?: Logger; workflowVersion?: string } = {}): Promise<RunningResponder> {
  const log = options.log ?? pino({ level: config.log.level });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => log.error({ err: error }, 'shutdown step failed'));
  };
  try {
    mkdirSync(resolve(config.dataDir), { recursive: true });
    const lock = lockDataDir(config.dataDir);
    stops.push(async () => lock.release());
    await ensurePortFree(config.server);
    // Before the database: a missing or unreadable key must stop the start, naming the file.
    const { key: auditKey, generated: auditKeyGenerated } = loadOrCreateAuditKey({ dataDir: config.dataDir, keyFile: config.audit.keyFile });
    if (auditKeyGenerated) log.info({ file: auditKey.file }, 'generated the audit key; back it up apart from the database, or the chain cannot be verified');
    let databaseUrl = config.database.url;
    if (!databaseUrl) {
      const embedded: EmbeddedDatabase = await startEmbeddedDatabase({
        dataDir: config.dataDir,
        port: config.database.embeddedPort,
        log: (line) => log.debug({ component: 'postgres' }, line),
      });
      stops.push(() => embedded.stop());
      databaseUrl = embedded.url;
      log.info({ postgresPid: embedded.pid, port: config.database.embeddedPort }, 'embedded PostgreSQL started');
    }
    const pool = createPool(databaseUrl, 20);
    stops.push(() => pool.end());
    await migrate(pool);
    const incidents = createIncidentStore(pool);
    const records = createIncidentRecordReader(pool, incidents);
    const audit = startConfiguredAuditTrail({ pool, key: auditKey, dataDir: config.dataDir, audit: config.audit, loki: config.loki, records, log });
    stops.push(() => audit.stop());
    const inventory = config.execution.inventory.includes(',') ? config.execution.inventory : resolveShippedPath(config.execution.inventory);
    const inventoryHosts = await watchInventoryHosts({
      inventory,
      binary: config.execution.ansibleInventoryBinary,
      env: inheritedEnvironment(),
      intervalMs: config.execution.inventoryRefreshSeconds * 1000,
      log,
    });
    stops.push(async () => inventoryHosts.stop());
    const catalog = loadCatalog(resolveShippedPath(config.execution.catalogDir), { inventoryHosts });
    const intakeKey = resolveIntakeKey(config, log);

    const policy = await createConfiguredPolicyGate(config, log);
    stops.push(() => policy.stop());
    const policyGate = policy.gate;
    log.info({ policy: policy.describe }, 'policy gate ready');
    const metrics = createMetrics(() => incidents.countByState());
    addAuditShippingMetrics(metrics, audit);
    const prometheusApi = config.prometheus.url ? createPrometheusApi({ url: config.prometheus.url, timeoutMs: config.prometheus.timeoutMs }) : null;
    const prometheus = prometheusApi ? createPrometheusClient(prometheusApi) : null;
    const lokiApi = config.loki.url ? createLokiApi({ url: config.loki.url, timeoutMs: config.loki.timeoutMs, tenantId: config.loki.tenantId }) : null;
    const investigator = createInvestigator({
      agent: config.agent,
      mcp: config.mcp,
      catalog,
      prometheus: prometheusApi,
      loki: lokiApi,
      inheritedEnv: inheritedEnvironment(),
      // With neither backend configured the built-in server would offer no tools at all.
      createBuiltinServer:
        config.mcp.builtin && (prometheusApi || lokiApi) ? () => createBuiltinMcpServer({ prometheus: prometheusApi, loki: lokiApi, version: RESPONDER_VERSION }) : null,
      onInvestigation: (investigation) => metrics.recordInvestigation(investigation),
    });
    if (investigator) log.info({ agent: investigator.describe, mcpServers: config.mcp.servers.map((s) => s.name), builtinTools: config.mcp.builtin }, 'LLM agent investigates incidents');
    else log.info({ reason: missingModelReason(config.agent) }, 'no LLM configured: evidence plus runbook-mapped proposals');

    const approvals = createApprovalStore(pool);
    const outbox = createOutboxStore(pool);
    const matrix = config.matrix;
    const matrixBot =
      matrix.homeserverUrl && matrix.accessToken && matrix.roomId
        ? startMatrixBot(
            {
              homeserverUrl: matrix.homeserverUrl,
              accessToken: matrix.accessToken,
              roomId: matrix.roomId,
              users: matrix.users,
              publicUrl: config.server.publicUrl ?? null,
              maxBackoffMs: matrix.maxBackoffSeconds * 1000,
            },
            {
              cards: createMatrixCardStore(pool),
              outbox,
              approvals,
              decide: (submission) => submitDecision(decisionDeps, submission),
              withdraw: (submission) => withdrawDecision({ approvals, announce: (request) => void announcer.updated(request) }, submission),
              log: log.child({ component: 'matrix' }),
            },
          )
        : null;
    if (matrixBot) stops.push(() => matrixBot.stop());
    // Channels that push requests to people (web UI live updates, Matrix) join this list; REST is pulled.
    const announcer = createApprovalAnnouncer(matrixBot ? [matrixBot.channel] : [], incidents, log);
    // Incident news from the audit chain to webhooks, ntfy and the Matrix card's thread, through the outbox.
    const notifications = startNotifications({
      pool,
      outbox,
      incidents,
      settings: { ...config.notify, maxBackoffMs: config.notify.maxBackoffSeconds * 1000, publicUrl: config.server.publicUrl ?? null },
      subscribers: matrixBot
        ? [
            matrixNoticeSubscriber(matrixBot.channel, async (incidentId) => {
              const routeName = (await incidents.get(incidentId))?.route;
              const route = config.routes.find((r) => r.name === routeName);
              const mention = route?.escalation?.matrixMention.length ? route.escalation.matrixMention : matrix.onCall;
              return { mention, roomId: route?.escalation?.matrixRoomId ?? null };
            }),
          ]
        : [],
      log: log.child({ component: 'notify' }),
    });
    stops.push(() => notifications.stop());
    addOutboxMetrics(metrics, { channels: [...(matrixBot ? ['matrix'] : []), ...notifications.channels], lag: () => outbox.lag() });
    const runs = createRunStore(pool);
    const executors = createExecutorRegistry({
      ansible: createAnsibleExecutor({
        binary: config.execution.ansiblePlaybookBinary,
        inventory,
        timeoutSeconds: config.execution.timeoutSeconds,
        inheritedEnv: inheritedEnvironment(),
        // Under the data dir this service holds the lock on: what a killed run left is removed at the next start.
        workDir: join(resolve(config.dataDir), 'runs'),
      }),
      ...configuredRemoteExecutors(config.execution),
    });
    for (const entry of catalog.entries.values()) {
      if (!executors.kinds().includes(entry.executor)) {
        log.warn({ action: entry.id, executor: entry.executor }, `remediation ${entry.id} needs the ${entry.executor} executor, which is not configured (execution.${entry.executor}); an incident proposing it will fail`);
      }
    }
    const incidentWorkflow = registerIncidentWorkflow({
      incidents,
      approvals,
      announcer,
      runs,
      investigations: createInvestigationStore(pool),
      catalog,
      policyGate,
      executors,
      prometheus,
      resolveExpression: (incident) =>
        resolveTrustedExpression({ incident, rules: prometheusApi ? async () => (await prometheusApi.rules()).data : null, trustAlertExpressions: config.intake.trustAlertExpressions }),
      investigator,
      routes: config.routes,
      settings: {
        approvalTimeoutSeconds: config.approval.timeoutMinutes * 60,
        policyRetrySeconds: config.policy.retrySeconds,
        verificationTimeoutSeconds: config.verification.timeoutSeconds,
        verificationIntervalSeconds: config.verification.intervalSeconds,
        maxConcurrentRuns: config.execution.maxConcurrentRuns,
        slotRetrySeconds: 2,
      },
      escalate: (incident) =>
        escalateExpiredApproval({ webhookUrl: config.approval.escalationWebhookUrl ?? null, publicUrl: config.server.publicUrl ?? null, timeoutMinutes: config.approval.timeoutMinutes }, incident, log),
      timed: (stage, work) => metrics.timed(stage, work),
      recordRun: (kind, state, failure) => metrics.recordRun(kind, state, failure),
      log,
    });
    // Before DBOS recovers the workflows recorded under this id: a second live holder would run them twice.
    await claimReplicaId(pool, config.replica);
    await startDurableRuntime({
      databaseUrl: config.database.url ? databaseUrl : withIdleTransactionTimeout(databaseUrl),
      executorId: config.replica.id,
      logLevel: config.log.level === 'debug' || config.log.level === 'trace' ? 'info' : 'warn',
      workflowVersion: options.workflowVersion,
    });
    stops.push(() => stopDurableRuntime());
    const replicaWatch = startReplicaWatch(pool, config.replica, log);
    stops.push(() => replicaWatch.stop());
    const stranded = await failWorkflowsOfOlderReleases({ incidents, approvals, log });
    if (stranded.length > 0) log.warn({ incidents: stranded }, 'incidents an older release was handling are failed: this release cannot resume them');

    const startIncident = (id: string) => incidentWorkflow.start(id);
    const sendApproval = (id: string, message: ApprovalMessage, idempotencyKey?: string) => send(workflowIdFor(id), message, APPROVAL_TOPIC, idempotencyKey);
    const decisionDeps: DecisionDeps = {
      approvals,
      incidents,
      checkInputs: (actionId, inputs) => catalog.validateInputs(actionId, inputs),
      rateLimiter: createDecisionRateLimiter(config.auth.decisionsPerMinute),
      notifyWorkflow: (incidentId, requestId, key) => sendApproval(incidentId, { kind: 'decided', requestId }, key),
      announce: (request) => void announcer.updated(request),
    };
    // Starts workflows that a crash between commit and start left behind; starting is idempotent.
    const sweep = async () => {
      for (const id of await incidents.listAwaitingWorkflow()) {
        await startIncident(id).catch((error: unknown) => log.error({ err: error, incident: id }, 'could not start incident workflow'));
      }
    };
    await sweep();
    const sweeper = setInterval(() => void sweep().catch((error: unknown) => log.error({ err: error }, 'workflow sweep failed')), SWEEP_INTERVAL_MS);
    sweeper.unref();
    stops.push(async () => clearInterval(sweeper));

    const access = { identities: createIdentityResolver({ tokens: config.auth.tokens, forwardAuth: config.auth.forwardAuth }), anonymousRead: config.auth.anonymousRead };
    const changes = createChangeFeed({ changedSince: incidents.changedSince, onError: (error) => log.warn({ err: error }, 'live page updates could not read changes; retrying') });
    stops.push(async () => changes.stop());
    const intakeDeps: IntakeRouteDeps = {
      notifications: createNotificationStore(pool),
      routes: config.routes,
      intake: { ...config.intake, key: intakeKey },
      bodyLimitBytes: config.server.bodyLimitBytes,
      metrics,
      adoptRoute: (id, choice) => incidents.adoptRoute(id, choice, 'responder'),
      startWorkflow: startIncident,
      notifyClosed: (id) => sendApproval(id, { kind: 'closed' }),
      onWorkflowStartError: (id, error) => log.error({ err: error, incident: id }, 'workflow start failed; the sweep will retry'),
    };
    const authFailures =
      config.auth.failedAttemptsPerMinute > 0
        ? createAuthFailureLimiter({
            perMinute: config.auth.failedAttemptsPerMinute,
            exempt: (peer) => access.identities.isTrustedProxy(peer),
            onBlocked: (peer) => log.warn({ peer }, 'too many failed credentials from one address; it is refused for the rest of the minute'),
          })
        : undefined;
    const app = createApp({
      authFailures,
      intake: intakeDeps,
      incidents: {
        incidents: { list: incidents.list, getRecord: records.get },
        access,
        decide: (submission) => submitDecision(decisionDeps, submission),
        bodyLimitBytes: config.server.apiBodyLimitBytes,
        cancelRun: (incidentId, actor, reason) => runs.requestCancel(incidentId, actor, reason),
        acknowledgeRun: (incidentId, actor, reason) => runs.acknowledgeUnknownRun(incidentId, actor, reason),
      },
      web: {
        incidents: { list: incidents.list, getRecord: records.get, countByState: incidents.countByState },
        inputsSchema: (actionId) => catalog.get(actionId)?.inputs ?? null,
        access,
        sessions: createWebSessions({
          tokens: config.auth.tokens,
          store: createWebSessionStore(pool),
          ttlMs: config.auth.sessionHours * 3600_000,
          formKey: derivedSecret(auditKey, 'web form tokens'),
        }),
        changes,
        decide: (submission) => submitDecision(decisionDeps, submission),
        cancelRun: (incidentId, actor, reason) => runs.requestCancel(incidentId, actor, reason),
        authFailures,
        secureCookies: (config.server.publicUrl ?? '').startsWith('https://'),
        bodyLimitBytes: config.server.apiBodyLimitBytes,
      },
      metrics,
      log,
      async ready() {
        const database = await pool.query('SELECT 1').then(
          () => ({ ok: true }),
          (error: Error) => ({ ok: false, detail: error.message }),
        );
        const policyCheck = (await policyGate.ready()) ? { ok: true } : { ok: false, detail: `${policy.describe} is not answering` };
        return { database, policy: policyCheck };
      },
    });
    const server = await listen(app.fetch, config.server, intakeFastPath(intakeDeps, log));
    stops.push(
      () =>
        new Promise<void>((done) => {
          server.close(() => done());
          // Keep-alive sockets from webhook senders would otherwise hold shutdown open.
          if ('closeAllConnections' in server) server.closeAllConnections();
        }),
    );
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.server.port;
    const url = `http://${config.server.host}:${port}`;
    log.info({ url, grafanaWebhook: `${url}/hooks/grafana/<intake key>`, alertmanagerWebhook: `${url}/hooks/alertmanager/<intake key>` }, 'Responder is listening');
    return { url, port, intakeKey, databaseUrl, auditKey, log, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
