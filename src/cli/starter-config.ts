export interface StarterConfigValues {
  host: string;
  port: number;
  embeddedPort: number;
  dataDir: string;
  intakeKey: string;
  /** The admin token's owner, recorded as the approver of what they approve. */
  tokenName: string;
  tokenSha256: string;
  writtenAt: Date;
}

/** A YAML scalar that stays a string whatever it holds (a key may start with `-` or look like a number). */
const quoted = (text: string) => JSON.stringify(text);

/**
 * The commented responder.yaml that `responder init` writes: enough to act on a labelled alert and decide
 * on it (one route, one admin token, the intake key), with what to add next shown commented out.
 */
export function renderStarterConfig(values: StarterConfigValues): string {
  return `# Responder configuration, written by \`responder init\` on ${values.writtenAt.toISOString().slice(0, 10)}.
# Every option and its default: responder.example.yaml. Check this file: responder config check
# What is still missing, with the lines to add: responder status
# Any key can also come from the environment: RESPONDER_SERVER__PORT=9000, RESPONDER_AGENT__API_KEY=...

server:
  host: ${quoted(values.host)}   # 0.0.0.0 accepts webhooks from other hosts (Alertmanager in a container or elsewhere)
  port: ${values.port}

# The embedded PostgreSQL, the generated policy bundle and audit anchors live here. A relative path is
# taken from the directory \`responder serve\` runs in.
dataDir: ${quoted(values.dataDir)}
database:
  embeddedPort: ${values.embeddedPort}     # loopback port of the embedded PostgreSQL; or url: postgres://... for your own

intake:
  # The <key> in /hooks/alertmanager/<key> and /hooks/grafana/<key>: whoever holds it can open incidents.
  key: ${quoted(values.intakeKey)}

auth:
  # name:token[:role], role viewer | approver | admin. Only the SHA-256 of the token is kept here
  # (sha256:<hex>); the token itself was printed once by \`responder init\`. The name is recorded as the
  # approver of what that token approves. Add a person: - alice:sha256:<echo -n TOKEN | sha256sum>:approver
  tokens:
    - ${quoted(`${values.tokenName}:sha256:${values.tokenSha256}:admin`)}

# Alerts are acted on only when a route matches, in the route's mode; unmatched alerts are stored and
# shown, not acted on. Label the alerts Responder may act on with agentic="true" (Prometheus rule labels or
# Grafana alert labels), and name the catalog action in the annotation remediation: restart-service.
routes:
  - name: agentic
    matchers: ['agentic="true"']   # =, !=, =~, !~ as in Alertmanager
    mode: approve                  # diagnose-only | approve (a person decides) | auto (policy may allow it alone)

# Prometheus: evidence (the alert's expression re-evaluated) and verification that the fix worked.
# prometheus:
#   url: http://127.0.0.1:9090

# Loki: error-log context for the investigating agent.
# loki:
#   url: http://127.0.0.1:3100

# The investigating agent. Without a model the proposal comes from the alert's remediation annotation.
# agent:
#   apiKey: sk-ant-...            # Claude (or apiKeyFile: /run/secrets/anthropic)
# or a local model:
#   provider: openai-compatible
#   baseUrl: http://127.0.0.1:11434/v1
#   model: llama3.1:70b
`;
}
