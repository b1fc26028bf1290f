import { networkInterfaces, hostname } from 'node:os';

export interface ServerAddress {
  host: string;
  port: number;
  publicUrl?: string;
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function withBrackets(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** This machine's first non-loopback IPv4 address, else its hostname: what another host would use. */
function machineAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((address) => address.family === 'IPv4' && !address.internal);
    if (found) return found.address;
  }
  return hostname();
}

/** Where a process on this machine reaches the service (`responder status` asks /readyz there). */
export function localUrl(server: ServerAddress): string {
  const host = WILDCARD.has(server.host) ? '127.0.0.1' : server.host;
  return `http://${withBrackets(host)}:${server.port}`;
}

/**
 * Where Alertmanager or Grafana reach the service: server.publicUrl when set, else this machine's address
 * when listening on every interface, else the configured host. loopbackOnly: only senders on this machine can.
 */
export function webhookBaseUrl(server: ServerAddress): { url: string; loopbackOnly: boolean } {
  if (server.publicUrl) return { url: server.publicUrl.replace(/\/+$/, ''), loopbackOnly: false };
  if (WILDCARD.has(server.host)) return { url: `http://${machineAddress()}:${server.port}`, loopbackOnly: false };
  return { url: `http://${withBrackets(server.host)}:${server.port}`, loopbackOnly: LOOPBACK.has(server.host) };
}

export const alertmanagerUrl = (base: string, key: string) => `${base}/hooks/alertmanager/${encodeURIComponent(key)}`;
export const grafanaUrl = (base: string, key: string) => `${base}/hooks/grafana/${encodeURIComponent(key)}`;

/** An alertmanager.yml receiver plus the route that sends it the alerts labelled agentic="true". */
export function alertmanagerSnippet(base: string, key: string): string[] {
  return [
    'receivers:',
    '  - name: responder',
    '    webhook_configs:',
    `      - url: ${alertmanagerUrl(base, key)}`,
    '        send_resolved: true',
    'route:',
    '  routes:',
    '    - receiver: responder',
    `      matchers: ['agentic="true"']`,
    '      continue: true     # your other receivers still get the alert',
  ];
}

/** A Grafana contact point as a provisioning file (or: Alerting → Contact points → Webhook, this URL). */
export function grafanaSnippet(base: string, key: string): string[] {
  return [
    'apiVersion: 1',
    'contactPoints:',
    '  - orgId: 1',
    '    name: responder',
    '    receivers:',
    '      - uid: responder',
    '        type: webhook',
    '        settings:',
    `          url: ${grafanaUrl(base, key)}`,
    '          httpMethod: POST',
  ];
}

const STARTS_AT = '@STARTS_AT@';

/**
 * A firing Alertmanager notification for a test alert, as one curl line. It asks for the shipped
 * restart-service action on this machine (host localhost, the default inventory), so it becomes a
 * proposal waiting for a person: dry-run, policy, then the approval request. startsAt is the shell's
 * `date` when it runs: a copy sent again later is a new firing, not a repeat of the first one.
 */
export function testAlertCurl(base: string, key: string, options: { service: string }): string {
  const body = {
    version: '4',
    receiver: 'responder',
    status: 'firing',
    groupKey: '{}:{alertname="ResponderTestAlert"}',
    groupLabels: { alertname: 'ResponderTestAlert' },
    commonLabels: {},
    commonAnnotations: {},
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'ResponderTestAlert', agentic: 'true', severity: 'warning', service: options.service, host: 'localhost' },
        annotations: { summary: `test alert from responder init: ${options.service} looks wedged`, remediation: 'restart-service' },
        startsAt: STARTS_AT,
        endsAt: '0001-01-01T00:00:00Z',
      },
    ],
  };
  const json = JSON.stringify(body).replace(STARTS_AT, `'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'`);
  return `curl -sS -X POST ${alertmanagerUrl(base, key)} -H 'content-type: application/json' -d '${json}'`;
}

/** The decision on an incident's open approval request (round 1 needs no requestId). */
export function approveCurl(localBase: string, token: string, incidentId = '<incident id>'): string {
  return `curl -sS -X POST ${localBase}/api/v1/incidents/${incidentId}/resume -H "Authorization: Bearer ${token}" -H 'content-type: application/json' -d '{"approved": true, "reason": "first test of Responder"}'`;
}
