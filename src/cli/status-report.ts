import { missingModelReason } from '../agent/language-model.js';
import type { Config } from '../config/config.schema.js';
import { effectiveEvaluator } from '../policy/create-policy-gate.js';
import { alertmanagerUrl, grafanaUrl, webhookBaseUrl } from './webhook-snippets.js';

export type ServiceProbe =
  | { kind: 'ready'; url: string }
  | { kind: 'not-ready'; url: string; detail: string }
  | { kind: 'down'; url: string; detail: string };

export interface StatusFacts {
  /** The config file read, or undefined when none exists (defaults and environment only). */
  configFile: string | undefined;
  intakeKey: { source: 'config' | 'data-dir'; key: string } | null;
  /** The pid in dataDir/serve.pid when that process is alive. */
  servePid: number | null;
  service: ServiceProbe;
}

interface Finding {
  ok: boolean;
  what: string;
  /** The YAML to add (or the command to run) when something is missing. */
  add?: string[];
}

function findings(config: Config, facts: StatusFacts): Finding[] {
  const list: Finding[] = [];
  list.push(
    facts.configFile
      ? { ok: true, what: `config file ${facts.configFile}` }
      : { ok: false, what: 'no config file: defaults and RESPONDER_* only, so no route and no token', add: ['responder init    # writes a starter responder.yaml'] },
  );
  list.push(
    config.routes.length > 0
      ? { ok: true, what: `routes: ${config.routes.map((r) => `${r.name} (${r.mode}${r.matchers.length ? `, ${r.matchers.map((m) => `${m.name}${m.operator}"${m.value}"`).join(' ')}` : ', every alert'})`).join('; ')}` }
      : {
          ok: false,
          what: 'no route: every alert is stored and shown, none is acted on',
          add: ['routes:', '  - name: agentic', `    matchers: ['agentic="true"']`, '    mode: approve'],
        },
  );
  const deciders = config.auth.tokens.filter((t) => t.role !== 'viewer');
  const forwardAuth = config.auth.forwardAuth.trustedProxies.length > 0;
  const tokenLine = `    - you:sha256:<hex>:admin    # TOKEN=$(openssl rand -base64 24); echo -n "$TOKEN" | sha256sum`;
  if (deciders.length > 0 || forwardAuth) {
    const who = [
      ...config.auth.tokens.map((t) => `${t.name} (${t.role})`),
      ...(forwardAuth ? [`forward-auth from ${config.auth.forwardAuth.trustedProxies.join(', ')}`] : []),
    ];
    list.push({ ok: true, what: `who can decide: ${who.join(', ')}` });
  } else {
    list.push({
      ok: false,
      what: config.auth.tokens.length > 0 ? 'no approver: every token is a viewer, nobody can approve' : 'no token: nobody can read incidents or approve',
      add: ['auth:', '  tokens:', tokenLine],
    });
  }
  list.push(
    facts.intakeKey
      ? { ok: true, what: `intake key: ${facts.intakeKey.source === 'config' ? 'intake.key in the config' : `${config.dataDir}/intake.key (generated at first start)`}` }
      : { ok: true, what: `intake key: generated into ${config.dataDir}/intake.key at first start (or set intake.key)` },
  );
  list.push(
    config.prometheus.url
      ? { ok: true, what: `Prometheus: ${config.prometheus.url}` }
      : { ok: false, what: 'no Prometheus: no evidence from the alert expression, and no fix is verified', add: ['prometheus:', '  url: http://127.0.0.1:9090'] },
  );
  list.push(
    config.loki.url
      ? { ok: true, what: `Loki: ${config.loki.url}` }
      : { ok: false, what: 'no Loki: the investigation sees no logs (optional)', add: ['loki:', '  url: http://127.0.0.1:3100'] },
  );
  const noModel = missingModelReason(config.agent);
  list.push(
    noModel === null
      ? { ok: true, what: `model: ${config.agent.provider} ${config.agent.model}` }
      : {
          ok: false,
          what: `no model (${noModel}): proposals come from each alert's remediation annotation`,
          add: ['agent:', '  apiKey: sk-ant-...        # Claude; or provider: openai-compatible, baseUrl: http://127.0.0.1:11434/v1, model: llama3.1:70b'],
        },
  );
  const { matrix, notify } = config;
  const matrixDeciders = matrix.users.filter((u) => u.role !== 'viewer');
  if (!matrix.homeserverUrl) {
    list.push({ ok: true, what: 'Matrix approvals: off (set matrix.homeserverUrl, accessTokenFile, roomId and users to approve from a phone; docs/matrix.md)' });
  } else if (matrixDeciders.length === 0) {
    list.push({
      ok: false,
      what: `Matrix: bot on ${matrix.homeserverUrl} in ${matrix.roomId}, but no approver in matrix.users: nobody's ✅ counts`,
      add: ['matrix:', '  users:', '    - { matrixId: "@you:example.org", name: you, role: approver }'],
    });
  } else {
    list.push({ ok: true, what: `Matrix: bot on ${matrix.homeserverUrl} in ${matrix.roomId}; decide: ${matrixDeciders.map((u) => `${u.name} (${u.matrixId})`).join(', ')}` });
  }
  const receivers = [...notify.webhooks.map((w) => `webhook ${w.name}`), ...notify.ntfy.map((n) => `ntfy ${n.name}`)];
  list.push({ ok: true, what: receivers.length > 0 ? `notifications: ${receivers.join(', ')}` : 'notifications: none (notify.webhooks, notify.ntfy; docs/notifications.md)' });
  const evaluator = effectiveEvaluator(config.policy);
  list.push({ ok: true, what: `policy: ${evaluator === 'wasm' ? `in-process bundle ${config.policy.bundleFile}` : (config.policy.url ?? `local OPA over ${config.policy.policyDir}`)}` });
  return list;
}

/** The lines `responder status` prints: each finding, and for what is missing the lines to add. */
export function statusReport(config: Config, facts: StatusFacts): string[] {
  const lines: string[] = [];
  for (const finding of findings(config, facts)) {
    lines.push(`${finding.ok ? 'ok     ' : 'missing'}  ${finding.what}`);
    if (finding.add) {
      lines.push(`         add${finding.add[0]!.startsWith('responder ') ? ' (run)' : ' to the config'}:`);
      for (const line of finding.add) lines.push(`           ${line}`);
    }
  }
  const { service } = facts;
  const holder = facts.servePid ? ` (pid ${facts.servePid})` : '';
  if (service.kind === 'ready') lines.push(`ok       service: ready at ${service.url}${holder}`);
  else if (service.kind === 'not-ready') lines.push(`missing  service: answering at ${service.url}${holder} but not ready: ${service.detail}`);
  else lines.push(`missing  service: not running at ${service.url} (${service.detail}); start it with: responder serve`);
  if (facts.intakeKey) {
    const { url } = webhookBaseUrl(config.server);
    lines.push('webhooks:', `  Alertmanager  ${alertmanagerUrl(url, facts.intakeKey.key)}`, `  Grafana       ${grafanaUrl(url, facts.intakeKey.key)}`);
  }
  return lines;
}
