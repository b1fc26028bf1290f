import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { z } from 'zod';
import { CatalogError } from '../domain/errors.js';
import { TargetKindSchema, type TargetKind } from '../domain/decision.js';
import { RiskSchema } from '../domain/proposal.js';

/** Where a runbook input comes from: `labels.<name>`, `annotations.<name>`, or a literal `value:<text>`. */
const InputSourceSchema = z.string().regex(/^(labels\.|annotations\.|value:)/, 'expected labels.<name>, annotations.<name> or value:<text>');

/** The engines a catalog entry can name. */
export const ExecutorKindSchema = z.enum(['ansible']);
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
    playbook: z.string(),
    inputs: z.record(z.unknown()),
    runbook: z.object({ inputs: z.record(InputSourceSchema) }).default({ inputs: {} }),
  })
  .strict();
export type CatalogEntry = z.infer<typeof CatalogEntrySchema> & { playbookPath: string };

export interface Catalog {
  entries: ReadonlyMap<string, CatalogEntry>;
  get(id: string): CatalogEntry | undefined;
  /**
   * Validates inputs against the entry's JSON Schema and its host targets against the inventory;
   * returns readable errors, empty when valid. Proposals, runbook mappings and modifications all pass here.
   */
  validateInputs(id: string, inputs: Record<string, unknown>): string[];
}

/** Every target the inputs name, as policy sees them. */
export function targetsOf(entry: CatalogEntry, inputs: Record<string, unknown>): { input: string; kind: TargetKind; value: string }[] {
  return Object.entries(entry.targets)
    .filter(([input]) => inputs[input] !== undefined)
    .map(([input, kind]) => {
      const value = inputs[input];
      return { input, kind, value: typeof value === 'string' ? value : JSON.stringify(value) };
    });
}

export interface CatalogOptions {
  /** The inventory's hosts (see loadInventoryHosts): a `host` target must be exactly one of them. */
  inventoryHosts: readonly string[];
}

function hostProblems(entry: CatalogEntry, inputs: Record<string, unknown>, hosts: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const [input, kind] of Object.entries(entry.targets)) {
    if (kind !== 'host' || !(input in inputs)) continue;
    const value = inputs[input];
    if (typeof value === 'string' && hosts.has(value)) continue;
    const known = [...hosts].slice(0, 10).join(', ') + (hosts.size > 10 ? ', …' : '');
    problems.push(`/${input} must name exactly one inventory host (not a group, a pattern or "all"); ${JSON.stringify(value)} is not one of: ${known || 'none'}`);
  }
  return problems;
}

export function loadCatalog(directory: string, options: CatalogOptions): Catalog {
  const hosts = new Set(options.inventoryHosts);
  const root = resolve(directory);
  if (!existsSync(root)) throw new CatalogError('catalog_missing', `remediation catalog directory ${root} does not exist`);
  const ajv = new Ajv({ allErrors: true, strict: false });
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
    const playbookPath = join(root, parsed.data.playbook);
    if (!existsSync(playbookPath)) problems.push(`${file}: playbook ${parsed.data.playbook} not found`);
    if (!(parsed.data.targetInput in ((parsed.data.inputs.properties as Record<string, unknown> | undefined) ?? {}))) {
      problems.push(`${file}: targetInput ${parsed.data.targetInput} is not one of the input properties`);
    }
    const properties = Object.keys((parsed.data.inputs.properties as Record<string, unknown> | undefined) ?? {});
    for (const input of Object.keys(parsed.data.targets)) {
      if (!properties.includes(input)) problems.push(`${file}: targets names ${input}, which is not one of the input properties`);
    }
    if (!(parsed.data.targetInput in parsed.data.targets)) problems.push(`${file}: targetInput ${parsed.data.targetInput} must also be listed under targets`);
    try {
      validators.set(parsed.data.id, ajv.compile(parsed.data.inputs));
    } catch (error) {
      problems.push(`${file}: inputs is not a valid JSON Schema: ${(error as Error).message}`);
    }
    entries.set(parsed.data.id, { ...parsed.data, playbookPath });
  }
  if (problems.length > 0) throw new CatalogError('catalog_invalid', `remediation catalog ${root} has problems:\n  - ${problems.join('\n  - ')}`);
  return {
    entries,
    get: (id) => entries.get(id),
    validateInputs(id, inputs) {
      const validate = validators.get(id);
      if (!validate) return [`unknown remediation "${id}"; the catalog has: ${[...entries.keys()].join(', ')}`];
      const schemaProblems = validate(inputs) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(inputs)'} ${e.message ?? 'is invalid'}`);
      return [...schemaProblems, ...hostProblems(entries.get(id)!, inputs, hosts)];
    },
  };
}
