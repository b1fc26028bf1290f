import { z } from 'zod';
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

const TokenSchema = z.union([
  z.object({ name: z.string().min(1), token: SecretSchema }).strict(),
  z.string().transform((pair, ctx) => {
    const at = pair.indexOf(':');
    if (at <= 0 || at === pair.length - 1) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'expected name:token' });
      return z.NEVER;
    }
    return { name: pair.slice(0, at), token: pair.slice(at + 1) };
  }),
]);

export const RouteSchema = z.object({
  name: z.string().min(1),
  /** Every matcher must hold. An empty list matches every alert. */
  matchers: z.array(LabelMatcherSchema).default([]),
  mode: ModeSchema,
  /** Catalog action ids this route may propose; empty means the whole catalog. */
  actions: z.array(z.string()).default([]),
}).strict();
export type Route = z.infer<typeof RouteSchema>;

// Every level is strict: a misspelt key would otherwise vanish without a word, and a route whose
// `matcher:` typo left it with no matchers would act on every alert.
export const ConfigSchema = z
  .object({
    server: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.coerce.number().int().min(0).max(65535).default(8080),
        bodyLimitBytes: z.coerce.number().int().positive().default(1024 * 1024),
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
    intake: z
      .object({
        /** Shared key in the webhook path, /hooks/<source>/<key>. When absent, one is generated into dataDir. */
        key: SecretSchema.optional(),
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
          .union([z.array(TokenSchema), z.string().transform((list) => list.split(',').map((s) => s.trim()).filter(Boolean))])
          .pipe(z.array(TokenSchema))
          .default([]),
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
    execution: z
      .object({
        catalogDir: z.string().default('./remediations'),
        ansiblePlaybookBinary: z.string().default('ansible-playbook'),
        /** Ansible inventory: a path, or an inline host list such as "web1,web2,". */
        inventory: z.string().default('./remediations/inventory.ini'),
        timeoutSeconds: z.coerce.number().int().positive().default(600),
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
export const SECRET_PATHS: readonly string[] = ['database.url', 'intake.key', 'intake.grafana.hmacSecret', 'auth.tokens', 'auth.tokens.*.token'];
