import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import { RoleSchema, type Role } from '../domain/identity.js';
import { ModeSchema } from '../domain/incident.js';

/**
 * A label matcher as written in Alertmanager routes: `name="value"`, `name!="value"`,
 * `name=~"regex"` or `name!~"regex"`. Parsed here so a typo fails `config check`, not the first alert.
 */
const MATCHER_PATTERN = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$/;

export const LabelMatcherSchema = z.string().transform((text, ctx) => {
  const found = MATCHER_PATTERN.exec(text);
  if (!found) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not a label matcher like name="value": ${text}` });
    return z.NEVER;
  }
  const [, name, operator, rawValue] = found as unknown as [string, string, '=' | '!=' | '=~' | '!~', string];
  const value = rawValue.replace(/\\(.)/g, '$1');
  if (operator === '=~' || operator === '!~') {
    try {
      new RegExp(`^(?:${value})$`);
    } catch (error) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `invalid regex in ${text}: ${(error as Error).message}` });
      return z.NEVER;
    }
  }
  return { name, operator, value };
});
export type LabelMatcher = z.infer<typeof LabelMatcherSchema>;

const SecretSchema = z.string().min(1);

const SHA256_PREFIX = 'sha256:';
const ROLES = RoleSchema.options as readonly string[];

/**
 * An API token as `name:token[:role]` or `{name, token, role}`. The token may be given as
 * `sha256:<64 hex>` so the config never holds the token itself; either way only its hash is kept.
 */
function parseToken(entry: { name: string; token: string; role?: Role }, ctx: z.RefinementCtx) {
  const { name, token, role = 'approver' } = entry;
  if (token.startsWith(SHA256_PREFIX)) {
    const hex = token.slice(SHA256_PREFIX.length).toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(hex)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `token of ${name}: sha256: must be followed by 64 hex digits` });
      return z.NEVER;
    }
    return { name, role, sha256: hex };
  }
  if (token.length < 16) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `token of ${name} is shorter than 16 characters; generate one with: openssl rand -base64 24` });
    return z.NEVER;
  }
  return { name, role, sha256: createHash('sha256').update(token).digest('hex') };
}

const TokenSchema = z.union([
  z.object({ name: z.string().min(1), token: SecretSchema, role: RoleSchema.optional() }).strict().transform(parseToken),
  z.string().transform((text, ctx) => {
    const at = text.indexOf(':');
    if (at <= 0 || at === text.length - 1) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'expected name:token or name:token:role' });
      return z.NEVER;
    }
    let token = text.slice(at + 1);
    let role: Role | undefined;
    const last = token.lastIndexOf(':');
    if (last > 0 && ROLES.includes(token.slice(last + 1))) {
      role = token.slice(last + 1) as Role;
      token = token.slice(0, last);
    }
    return parseToken({ name: text.slice(0, at), token, role }, ctx);
  }),
]);
export type ApiToken = { name: string; role: Role; sha256: string };

const CidrSchema = z.string().refine((text) => {
  const [address, bits] = text.split('/');
  const family = isIP(address ?? '');
  if (family === 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return Number.isInteger(n) && n >= 0 && n <= (family === 4 ? 32 : 128);
}, 'expected an IP address or CIDR, e.g. 10.0.0.0/8 or 127.0.0.1');

export const RouteSchema = z.object({
  name: z.string().min(1),
  /** Every matcher must hold. An empty list matches every alert. */
  matchers: z.array(LabelMatcherSchema).default([]),
  mode: ModeSchema,
  /** Catalog action ids this route may propose; empty means the whole catalog. */
  actions: z.array(z.string()).default([]),
  /** When an approval request of this route expires unanswered: who is told in Matrix besides the card's thread. */
  escalation: z
    .object({
      /** Mentioned in the card's thread instead of matrix.onCall. */
      matrixMention: z.array(z.string().regex(/^@[^:\s]+:\S+$/, 'expected a Matrix user id such as @alice:example.org')).default([]),
      /** Another room (a team's room, a direct chat with the on-call) that gets the escalation too. */
      matrixRoomId: z.string().regex(/^![^\s]+$/, 'expected a room id such as !abc123:example.org').optional(),
      /** Before expiring, ask once more with this longer deadline (a new request and card); unset expires at once. */
      reaskMinutes: z.coerce.number().positive().optional(),
    })
    .strict()
    .optional(),
}).strict();
export type Route = z.infer<typeof RouteSchema>;

const AgentSchema = z
  .object({
    /**
     * anthropic (Claude, the default) or any OpenAI-compatible endpoint (Ollama, vLLM, LiteLLM) at baseUrl.
     * none, or anthropic without an apiKey, keeps the no-LLM path: evidence plus runbook-mapped proposals.
     */
    provider: z.enum(['anthropic', 'openai-compatible', 'none']).default('anthropic'),
    model: z.string().min(1).default('claude-sonnet-4-5'),
    apiKey: SecretSchema.optional(),
    /** Provider endpoint; required for openai-compatible (e.g. http://localhost:11434/v1), optional for anthropic. */
    baseUrl: z.string().url().optional(),
    /** Model calls per investigation, the repair round included. */
    maxSteps: z.coerce.number().int().min(1).max(100).default(10),
    /** Input plus output tokens per investigation; the loop stops after the call that crosses it. */
    maxTokens: z.coerce.number().int().positive().default(100_000),
    maxOutputTokens: z.coerce.number().int().positive().default(4096),
    /** Wall-clock budget for one investigation, model calls and tool calls together. */
    timeoutSeconds: z.coerce.number().positive().default(180),
    /** One model HTTP request; a slower answer counts as a failed attempt and is retried. */
    requestTimeoutSeconds: z.coerce.number().positive().default(60),
    /** Further attempts after a provider error, rate limit or timeout, with exponential backoff. */
    retries: z.coerce.number().int().min(0).max(10).default(2),
    retryBackoffMs: z.coerce.number().int().min(0).default(1000),
    /** A larger tool result is cut here, marked as truncated, and the model is told to narrow its query. */
    toolResultMaxBytes: z.coerce.number().int().min(256).default(12_000),
    /** USD per million tokens, for the estimated cost in /metrics and the incident record. */
    pricing: z
      .object({
        inputPerMillionTokens: z.coerce.number().min(0).default(3),
        /** Input tokens read from the provider's prompt cache (Anthropic bills them at a tenth). */
        cachedInputPerMillionTokens: z.coerce.number().min(0).default(0.3),
        outputPerMillionTokens: z.coerce.number().min(0).default(15),
      })
      .strict()
      .default({}),
    /** What is gathered before the model's first call. */
    context: z
      .object({
        lookbackMinutes: z.coerce.number().int().positive().default(60),
        /** Loki line filter (a regex) that counts as an error line. */
        errorPattern: z.string().default('(?i)(error|exception|fatal|panic|fail)'),
        /** LogQL stream selector of change events (deploys, config pushes), e.g. {kind="change"}. */
        changeSelector: z.string().optional(),
        /** Alert labels that select the alert's logs in Loki, first present wins. */
        logLabels: z.array(z.string()).default(['service', 'job', 'app', 'instance']),
        /**
         * Metric names (a case-insensitive regex) summarised from the alert's instance as traffic and
         * saturation, at most four metrics; empty turns the section off.
         */
        signalPattern: z.string().default('request|queue|backlog|connection|inflight|in_flight|latency|throughput|load'),
      })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((agent, ctx) => {
    if (agent.provider === 'openai-compatible' && !agent.baseUrl) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['baseUrl'], message: 'an openai-compatible provider needs a baseUrl, e.g. http://localhost:11434/v1' });
    }
  })
  .default({});
export type AgentConfig = z.infer<typeof AgentSchema>;

const McpServerSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'letters, digits, - and _'),
    transport: z.enum(['stdio', 'sse', 'http']),
    /** stdio: the program and its arguments, e.g. mcp-grafana with -t stdio. */
    command: z.string().optional(),
    args: z.array(z.string()).default([]),
    env: z.record(z.string()).default({}),
    /** sse / http: the endpoint, e.g. http://mcp-grafana:8000/mcp. */
    url: z.string().url().optional(),
    headers: z.record(z.string()).default({}),
    bearerToken: SecretSchema.optional(),
    /** Tool names the model may call; empty means every tool the server marks read-only. */
    tools: z.array(z.string()).default([]),
    timeoutMs: z.coerce.number().int().positive().default(30_000),
  })
  .strict()
  .superRefine((server, ctx) => {
    if (server.transport === 'stdio' && !server.command) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['command'], message: 'a stdio server needs a command' });
    if (server.transport !== 'stdio' && !server.url) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['url'], message: `an ${server.transport} server needs a url` });
  });
export type McpServerConfig = z.infer<typeof McpServerSchema>;

const McpSchema = z
  .object({
    /** Responder's own Prometheus/Loki tools, served in-process to the agent. */
    builtin: z.boolean().default(true),
    /**
     * The built-in tools the model is offered: each costs tokens on every model call, and the context
     * pack already holds the alert's series, related alerts and logs. Empty offers all nine.
     */
    builtinTools: z
      .array(
        z.enum([
          'query_prometheus',
          'query_loki_logs',
          'list_firing_alerts',
          'list_alert_rules',
          'list_prometheus_metric_names',
          'list_prometheus_label_names',
          'list_prometheus_label_values',
          'list_loki_label_names',
          'list_loki_label_values',
        ]),
      )
      .default(['query_prometheus', 'query_loki_logs']),
    servers: z.array(McpServerSchema).default([]),
    /** `responder mcp serve --transport http`: bind address, port and optional bearer token. */
    serve: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.coerce.number().int().min(0).max(65535).default(8090),
        bearerToken: SecretSchema.optional(),
      })
      .strict()
      .default({}),
  })
  .strict()
  .default({});

/** The Kestra executor: a catalog entry with `executor: kestra` starts a flow through this server's executions API. */
const KestraSchema = z
  .object({
    /** Kestra's base URL, e.g. http://kestra:8080. */
    url: z.string().url(),
    /** Newer Kestra puts a tenant in the API path (/api/v1/<tenant>/executions/...); absent: /api/v1/executions/... */
    tenant: z.string().regex(/^[A-Za-z0-9_-]+$/).optional(),
    /** Basic auth (username + password or passwordFile), or a bearer token (or tokenFile); neither: no auth. */
    username: z.string().min(1).optional(),
    password: SecretSchema.optional(),
    token: SecretSchema.optional(),
    /** How often the execution is polled until it ends. */
    pollIntervalMs: z.coerce.number().int().positive().default(1000),
    /** Each API request's own timeout; the whole run is bounded by execution.timeoutSeconds. */
    requestTimeoutMs: z.coerce.number().int().positive().default(10_000),
  })
  .strict()
  .refine((kestra) => !kestra.username === !kestra.password, { message: 'kestra basic auth needs both username and password (or passwordFile)', path: ['password'] })
  .refine((kestra) => !(kestra.token && kestra.username), { message: 'kestra: either basic auth (username, password) or a bearer token, not both', path: ['token'] });

/** Endpoints a catalog entry with `executor: http` may name; URLs and secrets stay in config, out of the catalog. */
const HttpExecutorSchema = z
  .object({
    endpoints: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-z0-9-]+$/, 'lowercase letters, digits and dashes'),
            url: z.string().url(),
            /** Sent as `<header>: <scheme> <token>` (or tokenFile / RESPONDER_EXECUTION__HTTP__ENDPOINTS__0__TOKEN_FILE). */
            token: SecretSchema.optional(),
            header: z.string().regex(/^[A-Za-z0-9-]+$/).default('Authorization'),
            /** Put before the token; empty for a bare API key header. */
            scheme: z.string().default('Bearer'),
            timeoutMs: z.coerce.number().int().positive().default(30_000),
            /** The endpoint understands {"dryRun": true}; otherwise a dry run is skipped and says so. */
            dryRun: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(false),
          })
          .strict(),
      )
      .default([]),
  })
  .strict()
  .default({});

/** Where Responder sends: http or https only (a javascript: or file: URL parses as a URL too). */
const HttpUrlSchema = z.string().url().refine((url) => /^https?:\/\//i.test(url), 'expected an http:// or https:// URL');

const MatrixIdSchema = z.string().regex(/^@[^:\s]+:\S+$/, 'expected a Matrix user id such as @alice:example.org');

/** The Matrix approval bot: where it posts cards and whose reactions and commands count. */
const MatrixSchema = z
  .object({
    /** e.g. https://matrix.example.org; the bot is off when absent. */
    homeserverUrl: HttpUrlSchema.optional(),
    /** The bot user's access token (or accessTokenFile). */
    accessToken: SecretSchema.optional(),
    /** The room cards go to, e.g. !abc123:example.org; the bot joins it when invited. */
    roomId: z.string().regex(/^![^\s]+$/, 'expected a room id such as !abc123:example.org').optional(),
    /** Matrix users mapped to Responder identities; anyone else is refused. Only approver and admin roles decide. */
    users: z
      .array(z.object({ matrixId: MatrixIdSchema, name: z.string().min(1), role: RoleSchema.default('approver') }).strict())
      .default([]),
    /** Mentioned in the card's thread when a request expires unanswered. */
    onCall: z.array(MatrixIdSchema).default([]),
    /** While the homeserver is unreachable, messages wait in the outbox; retries back off up to this. */
    maxBackoffSeconds: z.coerce.number().positive().default(300),
  })
  .strict()
  .superRefine((matrix, context) => {
    if (!matrix.homeserverUrl) return;
    if (!matrix.accessToken) context.addIssue({ code: 'custom', path: ['accessToken'], message: 'matrix.homeserverUrl is set: the bot needs accessToken or accessTokenFile' });
    if (!matrix.roomId) context.addIssue({ code: 'custom', path: ['roomId'], message: 'matrix.homeserverUrl is set: the bot needs the roomId to post cards in' });
    const seen = new Set<string>();
    matrix.users.forEach((user, index) => {
      if (seen.has(user.matrixId)) context.addIssue({ code: 'custom', path: ['users', index, 'matrixId'], message: `${user.matrixId} is listed twice` });
      seen.add(user.matrixId);
    });
  })
  .default({});

export const NotifyEventSchema = z.enum(['incident-started', 'policy-denied', 'approval-requested', 'approval-expired', 'result', 'error']);
export type NotifyEvent = z.infer<typeof NotifyEventSchema>;
const ALL_EVENTS = NotifyEventSchema.options;

/** Chat webhooks and push notifications about incidents; each message goes through the durable outbox. */
const NotifySchema = z
  .object({
    /** Slack-compatible incoming webhooks (Slack, Mattermost, Rocket.Chat, a Matrix hookshot): POST {"text": ...}. */
    webhooks: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-z0-9-]+$/, 'lowercase letters, digits and dashes'),
            /** The webhook URL holds its own secret: urlFile reads it from a file. */
            url: SecretSchema.pipe(HttpUrlSchema),
            events: z.array(NotifyEventSchema).default([...ALL_EVENTS]),
          })
          .strict(),
      )
      .default([]),
    /** ntfy topics: a push to a phone. */
    ntfy: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-z0-9-]+$/, 'lowercase letters, digits and dashes'),
            /** The topic URL, e.g. https://ntfy.sh/responder-oncall. */
            url: HttpUrlSchema,
            /** Access token for a protected topic (or tokenFile). */
            token: SecretSchema.optional(),
            /** ntfy priority 1 (min) to 5 (max) for ordinary messages; an expired approval is always sent at 5. */
            priority: z.coerce.number().int().min(1).max(5).default(3),
            events: z.array(NotifyEventSchema).default([...ALL_EVENTS]),
          })
          .strict(),
      )
      .default([]),
    /** While a receiver is unreachable its messages wait in the outbox; retries back off up to this. */
    maxBackoffSeconds: z.coerce.number().positive().default(300),
  })
  .strict()
  .superRefine((notify, context) => {
    const names = [...notify.webhooks.map((w) => w.name), ...notify.ntfy.map((n) => n.name)];
    names.forEach((name, index) => {
      if (names.indexOf(name) !== index) context.addIssue({ code: 'custom', path: ['webhooks'], message: `notification channel name ${name} is used twice` });
    });
  })
  .default({});

// Every level is strict: a misspelt key would otherwise vanish without a word, and a route whose
// `matcher:` typo left it with no matchers would act on every alert.
export const ConfigSchema = z
  .object({
    server: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.coerce.number().int().min(0).max(65535).default(8080),
        bodyLimitBytes: z.coerce.number().int().positive().default(1024 * 1024),
        /** JSON API bodies (a decision with its modifications) larger than this get 413. */
        apiBodyLimitBytes: z.coerce.number().int().positive().default(64 * 1024),
        /** Where people reach the UI; used in escalation messages. */
        publicUrl: z.string().url().optional(),
      })
      .strict()
      .default({}),
    dataDir: z.string().default('./data'),
    database: z
      .object({
        /** PostgreSQL connection string; when absent an embedded PostgreSQL runs under dataDir. */
        url: z.string().optional(),
        embeddedPort: z.coerce.number().int().min(1).max(65535).default(54329),
      })
      .strict()
      .default({}),
    /** Several Responders on one database (database.url): each needs its own id. */
    replica: z
      .object({
        /** This replica's name among those sharing the database; its workflows are recorded under it. */
        id: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ".", "_" and "-", at most 63, starting with a letter or digit')
          .default('local'),
        /** How often this replica says it is alive. */
        heartbeatSeconds: z.coerce.number().positive().default(10),
        /** A replica not heard from for this long is taken for gone: another resumes the incidents it was handling. */
        deadAfterSeconds: z.coerce.number().positive().default(60),
      })
      .strict()
      .refine((replica) => replica.deadAfterSeconds >= 3 * replica.heartbeatSeconds, {
        message: 'deadAfterSeconds must be at least 3 × heartbeatSeconds, or a replica that is merely slow is taken for gone',
        path: ['deadAfterSeconds'],
      })
      .default({}),
    intake: z
      .object({
        /** Shared key in the webhook path, /hooks/<source>/<key>. When absent, one is generated into dataDir. */
        key: SecretSchema.optional(),
        /**
         * Run the PromQL expression an alert carries (expr annotation, generatorURL) and its change_query
         * LogQL for evidence and verification. Off: only the rule's expression from Prometheus's rules API runs.
         */
        trustAlertExpressions: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(false),
        grafana: z
          .object({
            hmacSecret: SecretSchema.optional(),
            signatureHeader: z.string().default('X-Grafana-Alerting-Signature'),
            /** When set, the signature covers "<timestamp>:<body>" and stale timestamps are refused. */
            timestampHeader: z.string().optional(),
            maxSkewSeconds: z.coerce.number().int().positive().default(300),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
    auth: z
      .object({
        tokens: z
          // Parsed once, after the env form is split: a token is hashed exactly once.
          .union([z.array(z.unknown()), z.string().transform((list) => list.split(',').map((s) => s.trim()).filter(Boolean))])
          .pipe(z.array(TokenSchema))
          .default([]),
        /** Reads (incidents, records, /metrics) without any identity. Off by default: records hold logs and diffs. */
        anonymousRead: z
          .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])
          .default(false),
        /** Identity from a reverse proxy's forward-auth (e.g. Caddy forward_auth with Keycloak). */
        forwardAuth: z
          .object({
            /** Only requests from these addresses may assert a user; an empty list turns forward-auth off. */
            trustedProxies: z
              .union([z.array(CidrSchema), z.string().transform((list) => list.split(',').map((s) => s.trim()).filter(Boolean))])
              .pipe(z.array(CidrSchema))
              .default([]),
            userHeader: z.string().default('X-Forwarded-User'),
            groupsHeader: z.string().default('X-Forwarded-Groups'),
            /** Group name → role; a user gets the highest role of their groups. */
            groupRoles: z.record(RoleSchema).default({}),
            /** Role of a proxy-authenticated user none of whose groups is mapped; none refuses them. */
            defaultRole: z.union([RoleSchema, z.literal('none')]).default('none'),
          })
          .strict()
          .default({}),
        /** Decisions one identity may submit per minute, on every channel together. */
        decisionsPerMinute: z.coerce.number().int().positive().default(20),
        /** Refused tokens (bearer or sign-in form) one client address may present per minute before it is refused for the rest of it; 0: no limit. */
        failedAttemptsPerMinute: z.coerce.number().int().nonnegative().default(30),
        /** How long a web sign-in lasts; sessions are kept in the database, so a restart does not end them. */
        sessionHours: z.coerce.number().positive().max(24 * 90).default(12),
      })
      .strict()
      .default({}),
    routes: z.array(RouteSchema).default([]),
    prometheus: z
      .object({
        url: z.string().url().optional(),
        timeoutMs: z.coerce.number().int().positive().default(5000),
      })
      .strict()
      .default({}),
    policy: z
      .object({
        /**
         * wasm: evaluate the built bundle in-process (no OPA server). rest: ask an OPA server's Data API,
         * `url` or, when absent, a local `opa run -s` over policyDir. Default: rest when url is set, else wasm.
         */
        evaluator: z.enum(['wasm', 'rest']).optional(),
        /** OPA server base URL for the rest evaluator. */
        url: z.string().url().optional(),
        /** The built policy (`responder policy build`); rebuilt at start when policyDir's sources changed and OPA is installed. */
        bundleFile: z.string().default('./policy-bundle/incident_response.tar.gz'),
        decisionPath: z.string().default('responder/incident_response/decision'),
        policyDir: z.string().default('./policies'),
        opaBinary: z.string().default('opa'),
        timeoutMs: z.coerce.number().int().positive().default(2000),
        /** Wait between attempts while OPA is unreachable; the incident never executes unchecked. */
        retrySeconds: z.coerce.number().positive().default(15),
      })
      .strict()
      .default({}),
    approval: z
      .object({
        timeoutMinutes: z.coerce.number().positive().default(30),
        /** POSTed a JSON escalation when an approval request expires. */
        escalationWebhookUrl: z.string().url().optional(),
      })
      .strict()
      .default({}),
    matrix: MatrixSchema,
    notify: NotifySchema,
    execution: z
      .object({
        catalogDir: z.string().default('./remediations'),
        ansiblePlaybookBinary: z.string().default('ansible-playbook'),
        /** Lists the inventory's hosts at start and when its files change: a host input must be exactly one of them. */
        ansibleInventoryBinary: z.string().default('ansible-inventory'),
        /** Ansible inventory: a path, or an inline host list such as "web1,web2,". */
        inventory: z.string().default('./remediations/inventory.ini'),
        /** How often the inventory's files are checked for changes (then listed again); 0: only at start. */
        inventoryRefreshSeconds: z.coerce.number().nonnegative().default(30),
        timeoutSeconds: z.coerce.number().int().positive().default(600),
        /** Remediations running at once across all targets; one more waits, and its incident says why. */
        maxConcurrentRuns: z.coerce.number().int().positive().default(4),
        kestra: KestraSchema.optional(),
        http: HttpExecutorSchema,
      })
      .strict()
      .default({}),
    verification: z
      .object({
        timeoutSeconds: z.coerce.number().positive().default(300),
        intervalSeconds: z.coerce.number().positive().default(10),
      })
      .strict()
      .default({}),
    loki: z
      .object({
        /** Loki base URL, e.g. http://loki:3100; the agent's log context and the built-in query_loki_logs tool use it. */
        url: z.string().url().optional(),
        timeoutMs: z.coerce.number().int().positive().default(5000),
        /** Sent as X-Scope-OrgID for multi-tenant Loki. */
        tenantId: z.string().optional(),
      })
      .strict()
      .default({}),
    audit: z
      .object({
        /**
         * The HMAC key that seals the audit chain, at least 32 bytes, in a file only the service's user can read
         * (a looser mode is refused). When absent, dataDir/audit.key, generated at first start.
         */
        keyFile: z.string().optional(),
        /** Keys of earlier rotations: never used to seal, kept so that verify can check what they sealed. */
        previousKeyFiles: z
          .union([z.array(z.string()), z.string().transform((list) => list.split(',').map((s) => s.trim()).filter(Boolean))])
          .pipe(z.array(z.string().min(1)))
          .default([]),
        /** The chain head is appended to dataDir/audit-anchors.jsonl this often when it moved, and at every final incident state. */
        anchorIntervalSeconds: z.coerce.number().positive().default(10),
        loki: z
          .object({
            /** Ships every audit event, the chain head and a summary per finished incident to loki.url when that is set. */
            enabled: z
              .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])
              .default(true),
            /** Events per push; a push is also cut at about 1 MiB. */
            batchSize: z.coerce.number().int().min(1).max(5000).default(500),
            /** While Loki is unreachable the shipper waits 1 s, 2 s, 4 s, … up to this between attempts. */
            maxBackoffSeconds: z.coerce.number().positive().default(60),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
    agent: AgentSchema,
    mcp: McpSchema,
    /** `responder eval`: the real Prometheus the planted-fault scenarios run in, and promtool to backfill it. */
    eval: z
      .object({
        prometheusBinary: z.string().default('/usr/bin/prometheus'),
        promtoolBinary: z.string().default('/usr/bin/promtool'),
      })
      .strict()
      .default({}),
    log: z
      .object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') })
      .strict()
      .default({}),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/**
 * Keys that may instead be read from a file (`keyFile: /run/secrets/key`, RESPONDER_INTAKE__KEY_FILE), so
 * a secret need not sit in the YAML or the environment. Listed rather than implied by a `File` suffix,
 * because some keys (policy.bundleFile) are paths in their own right. `*` stands for a list index.
 */
export const SECRET_PATHS: readonly string[] = [
  'database.url',
  'intake.key',
  'intake.grafana.hmacSecret',
  'auth.tokens',
  'auth.tokens.*.token',
  'agent.apiKey',
  'mcp.servers.*.bearerToken',
  'mcp.serve.bearerToken',
  'matrix.accessToken',
  'notify.webhooks.*.url',
  'notify.ntfy.*.token',
  'execution.kestra.password',
  'execution.kestra.token',
  'execution.http.endpoints.*.token',
];
