import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { join, resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { z } from 'zod';
import { CatalogError } from '../domain/errors.js';
import { TargetKindSchema, type TargetKind } from '../domain/decision.js';
import { RiskSchema } from '../domain/proposal.js';
import { describeSchemaErrors, formatInputProblem, messagesKeyword, misplacedMessages, quoteValue, type InputProblem } from './input-problems.js';
import { isCanonicalAbsolutePath, pathProblems } from './path-inputs.js';
import type { InventoryHosts } from './inventory-hosts.js';
import { placeholdersOf } from './verification-query.js';

/** Where a runbook input comes from: `labels.<name>`, `annotations.<name>`, or a literal `value:<text>`. */
const InputSourceSchema = z.string().regex(/^(labels\.|annotations\.|value:)/, 'expected labels.<name>, annotations.<name> or value:<text>');

/** The engines a catalog entry can name. */
export const ExecutorKindSchema = z.enum(['ansible', 'kestra', 'http']);
export type ExecutorKind = z.infer<typeof ExecutorKindSchema>;

export const CatalogEntrySchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9-]*$/),
    title: z.string(),
    description: z.string().default(''),
    /** The verb policy reasons about: restart, scale, rollback, clear-disk, block-host, read. */
    type: z.string(),
    risk: RiskSchema,
    readOnly: z.boolean().default(false),
    destructive: z.boolean().default(false),
    targetType: z.enum(['service', 'vm', 'host', 'deployment', 'config', 'network']),
    /** The input naming what is acted on; policy's rate limit keys on it. */
    targetInput: z.string(),
    /**
     * Every input that names something acted on, with what it names. Policy sees them all; a `host`
     * input must be exactly one host of the inventory (never a group, a pattern or `all`).
     */
    targets: z.record(TargetKindSchema),
    /** Which executor runs it; the registry in src/execution maps this to an implementation. */
    executor: ExecutorKindSchema,
    /** The playbook beside this file; required when the executor is ansible. */
    playbook: z.string().optional(),
    /** executor: kestra: the flow started for this action; inputs go as form fields of the same names. */
    kestra: z
      .object({
        namespace: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/).default('platform.remediation'),
        flowId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/),
        /** A boolean flow input that makes the flow only report what it would change; absent: no dry run. */
        dryRunInput: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
      })
      .strict()
      .optional(),
    /** executor: http: the endpoint (by name, from execution.http.endpoints) the action is POSTed to. */
    http: z.object({ endpoint: z.string().regex(/^[a-z0-9-]+$/) }).strict().optional(),
    /**
     * Undoes this action when it ran but the condition did not clear: another catalog action, its inputs
     * taken from this one's (`inputs.<name>`) or literal (`value:<text>`). Proposed for approval, never run on its own.
     */
    rollback: z
      .object({ action: z.string().regex(/^[a-z][a-z0-9-]*$/), inputs: z.record(z.string().regex(/^(inputs\.|value:)/, 'expected inputs.<name> or value:<text>')) })
      .strict()
      .optional(),
    inputs: z.record(z.unknown()),
    /**
     * The directories a path input may name (the input itself, or each item of a list): the operator's
     * setting, kept in the catalog beside the action it constrains. Every path target is also refused
     * when it is not canonical and absolute (no `..`, `.`, `//`).
     */
    pathRoots: z.record(z.array(z.string().refine(isCanonicalAbsolutePath, 'roots must be canonical absolute paths')).min(1)).default({}),
    /** Whether the executor's dry run shows what would change (ansible --check --diff). */
    supportsDryRun: z.boolean().default(true),
    /**
     * PromQL that returns series while the problem the action fixes persists; `{{ input }}` is replaced by
     * the approved input, escaped as a PromQL string (`{{ input | regex }}` also quotes regex metacharacters).
     */
    verification: z.object({ query: z.string().min(1), description: z.string().optional() }).strict().optional(),
    runbook: z.object({ inputs: z.record(InputSourceSchema) }).default({ inputs: {} }),
  })
  .strict();
export type CatalogEntry = z.infer<typeof CatalogEntrySchema> & { playbookPath: string | null };

export interface Catalog {
  entries: ReadonlyMap<string, CatalogEntry>;
  get(id: string): CatalogEntry | undefined;
  /**
   * Validates inputs against the entry's JSON Schema and its host targets against the inventory;
   * returns readable errors (`<input>: <what is wrong>`), empty when valid. Proposals, runbook mappings and
   * modifications all pass here.
   */
  validateInputs(id: string, inputs: Record<string, unknown>): string[];
  /** The same check, each problem with the input it is about, for callers that name the inputs their own way. */
  inputProblems(id: string, inputs: Record<string, unknown>): InputProblem[];
}

/** Every target the inputs name, as policy sees them; a list input (several paths) is one target per item. */
export function targetsOf(entry: CatalogEntry, inputs: Record<string, unknown>): { input: string; kind: TargetKind; value: string }[] {
  return Object.entries(entry.targets)
    .filter(([input]) => inputs[input] !== undefined)
    .flatMap(([input, kind]) => {
      const value = inputs[input];
      return (Array.isArray(value) ? value : [value]).map((item: unknown) => ({ input, kind, value: typeof item === 'string' ? item : JSON.stringify(item) }));
    });
}

export interface CatalogOptions {
  /**
   * The inventory's hosts (loadInventoryHosts), or where to ask for them as they are now
   * (watchInventoryHosts): a `host` target must be exactly one of them.
   */
  inventoryHosts: readonly string[] | InventoryHosts;
}

function hostProblems(entry: CatalogEntry, inputs: Record<string, unknown>, hosts: ReadonlySet<string>): InputProblem[] {
  const problems: InputProblem[] = [];
  for (const [input, kind] of Object.entries(entry.targets)) {
    if (kind !== 'host' || !(input in inputs)) continue;
    const value = inputs[input];
    if (typeof value === 'string' && hosts.has(value)) continue;
    const known = [...hosts].slice(0, 10).join(', ') + (hosts.size > 10 ? ', …' : '');
    problems.push({ input, message: `must name exactly one inventory host (not a group, a pattern or "all"); ${quoteValue(value)} is not one of: ${known || 'none'}` });
  }
  return problems;
}

/** Each executor's own settings are present, and only those. */
function executorProblems(file: string, entry: z.infer<typeof CatalogEntrySchema>): string[] {
  const problems: string[] = [];
  if (entry.executor === 'ansible' && !entry.playbook) problems.push(`${file}: executor ansible needs a playbook`);
  if (entry.executor === 'kestra' && !entry.kestra) problems.push(`${file}: executor kestra needs kestra.flowId (and kestra.namespace)`);
  if (entry.executor === 'http' && !entry.http) problems.push(`${file}: executor http needs http.endpoint`);
  return problems;
}

/** A rollback names an action of this catalog and fills its inputs only from inputs this action has. */
function rollbackProblems(entries: ReadonlyMap<string, CatalogEntry>): string[] {
  const problems: string[] = [];
  for (const entry of entries.values()) {
    if (!entry.rollback) continue;
    if (!entries.has(entry.rollback.action)) problems.push(`${entry.id}: rollback.action ${entry.rollback.action} is not in the catalog`);
    const properties = Object.keys((entry.inputs.properties as Record<string, unknown> | undefined) ?? {});
    for (const [name, source] of Object.entries(entry.rollback.inputs)) {
      if (source.startsWith('inputs.') && !properties.includes(source.slice('inputs.'.length))) {
        problems.push(`${entry.id}: rollback.inputs.${name} reads ${source}, which is not one of the input properties`);
      }
    }
  }
  return problems;
}

/** The rollback action's inputs for a run of `entry` with `inputs`; null when the entry names no rollback. */
export function rollbackInputs(entry: CatalogEntry, inputs: Record<string, unknown>): { action: string; inputs: Record<string, unknown> } | null {
  if (!entry.rollback) return null;
  const mapped: Record<string, unknown> = {};
  for (const [name, source] of Object.entries(entry.rollback.inputs)) {
    if (source.startsWith('value:')) mapped[name] = source.slice('value:'.length);
    else if (inputs[source.slice('inputs.'.length)] !== undefined) mapped[name] = inputs[source.slice('inputs.'.length)];
  }
  return { action: entry.rollback.action, inputs: mapped };
}

export function loadCatalog(directory: string, options: CatalogOptions): Catalog {
  const given = options.inventoryHosts;
  const fixedHosts: ReadonlySet<string> | null = Array.isArray(given) ? new Set(given) : null;
  const currentHosts = () => fixedHosts ?? (given as InventoryHosts).current();
  const root = resolve(directory);
  if (!existsSync(root)) throw new CatalogError('catalog_missing', `remediation catalog directory ${root} does not exist`);
  // verbose: each error carries its schema, where the entry's own sentence for it is (input-problems.ts).
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
  ajv.addKeyword(messagesKeyword);
  // One address, never a range: the platform's own parsers, so "0.0.0.0/0" or "10.0.0.1-10.0.0.9" is not an address.
  ajv.addFormat('ipv4', { type: 'string', validate: (value) => isIPv4(value) });
  ajv.addFormat('ipv6', { type: 'string', validate: (value) => isIPv6(value) && !value.includes('%') });
  const entries = new Map<string, CatalogEntry>();
  const validators = new Map<string, ValidateFunction>();
  const problems: string[] = [];
  for (const file of readdirSync(root).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort()) {
    let raw: unknown;
    try {
      raw = parse(readFileSync(join(root, file), 'utf8'));
    } catch (error) {
      problems.push(`${file}: ${(error as Error).message}`);
      continue;
    }
    // Playbooks live beside the entries; only files describing an action have an `id`.
    if (typeof raw !== 'object' || raw === null || !('id' in raw)) continue;
    const parsed = CatalogEntrySchema.safeParse(raw);
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((i) => `${file}: ${i.path.join('.')}: ${i.message}`));
      continue;
    }
    const playbookPath = parsed.data.playbook ? join(root, parsed.data.playbook) : null;
    if (playbookPath && !existsSync(playbookPath)) problems.push(`${file}: playbook ${parsed.data.playbook} not found`);
    problems.push(...executorProblems(file, parsed.data));
    if (!(parsed.data.targetInput in ((parsed.data.inputs.properties as Record<string, unknown> | undefined) ?? {}))) {
      problems.push(`${file}: targetInput ${parsed.data.targetInput} is not one of the input properties`);
    }
    const properties = Object.keys((parsed.data.inputs.properties as Record<string, unknown> | undefined) ?? {});
    for (const input of Object.keys(parsed.data.targets)) {
      if (!properties.includes(input)) problems.push(`${file}: targets names ${input}, which is not one of the input properties`);
    }
    if (!(parsed.data.targetInput in parsed.data.targets)) problems.push(`${file}: targetInput ${parsed.data.targetInput} must also be listed under targets`);
    for (const input of Object.keys(parsed.data.pathRoots)) {
      if (parsed.data.targets[input] !== 'path') problems.push(`${file}: pathRoots names ${input}, which is not a path target`);
    }
    for (const input of placeholdersOf(parsed.data.verification?.query ?? '')) {
      if (!properties.includes(input)) problems.push(`${file}: verification.query uses {{ ${input} }}, which is not one of the input properties`);
    }
    problems.push(...misplacedMessages(parsed.data.inputs).map((problem) => `${file}: inputs ${problem}`));
    try {
      validators.set(parsed.data.id, ajv.compile(parsed.data.inputs));
    } catch (error) {
      problems.push(`${file}: inputs is not a valid JSON Schema: ${(error as Error).message}`);
    }
    entries.set(parsed.data.id, { ...parsed.data, playbookPath });
  }
  problems.push(...rollbackProblems(entries));
  if (problems.length > 0) throw new CatalogError('catalog_invalid', `remediation catalog ${root} has problems:\n  - ${problems.join('\n  - ')}`);
  const inputProblems = (id: string, inputs: Record<string, unknown>): InputProblem[] => {
    const validate = validators.get(id);
    if (!validate) return [{ input: '', message: `unknown remediation ${quoteValue(id)}; the catalog has: ${[...entries.keys()].join(', ')}` }];
    const schemaProblems = validate(inputs) ? [] : describeSchemaErrors(validate.errors ?? []);
    const entry = entries.get(id)!;
    const pathInputs = Object.entries(entry.targets).filter(([, kind]) => kind === 'path').map(([input]) => input);
    return [...schemaProblems, ...hostProblems(entry, inputs, currentHosts()), ...pathProblems({ pathInputs, roots: entry.pathRoots, inputs })];
  };
  return {
    entries,
    get: (id) => entries.get(id),
    inputProblems,
    validateInputs: (id, inputs) => inputProblems(id, inputs).map((problem) => formatInputProblem(problem)),
  };
}
