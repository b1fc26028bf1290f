import { z } from 'zod';
import { RiskSchema, type EvidenceItem, type Proposal } from '../domain/proposal.js';
import { JsonObjectSchema } from '../domain/json-value.js';
import type { Catalog } from '../remediation/catalog.js';
import { formatInputProblem, MESSAGES_KEYWORD, quoteValue } from '../remediation/input-problems.js';

/** What the model must hand in through the submit_proposal tool. */
// PostgreSQL's jsonb cannot store U+0000; a model echoing binary log noise must not fail the incident.
const Text = z.string().transform((text) => text.replaceAll('\u0000', '\uFFFD'));

export const AgentProposalSchema = z
  .object({
    diagnosis: Text.pipe(z.string().trim().min(1, 'say what is wrong')),
    evidence: z
      .array(z.object({ source: Text.pipe(z.string().min(1)), summary: Text.pipe(z.string().min(1)) }).strict())
      .min(1, 'cite at least one piece of evidence you were shown'),
    action: z.object({ id: z.string().min(1), inputs: JsonObjectSchema }).strict().nullable(),
    risk: RiskSchema,
    confidence: z.number().min(0).max(1),
  })
  .strict();
export type AgentProposal = z.infer<typeof AgentProposalSchema>;

export const SUBMIT_PROPOSAL_TOOL = 'submit_proposal';

export type ProposalCheck = { ok: true; proposal: Proposal } | { ok: false; problems: string[] };

/** The actions a route lets the model choose from: its list, or the whole catalog when the list is empty. */
export function allowedCatalogActions(catalog: Catalog, routeActions: readonly string[]): string[] {
  const all = [...catalog.entries.keys()];
  return routeActions.length === 0 ? all : routeActions.filter((id) => catalog.get(id) !== undefined);
}

/** Keywords only the validator needs: a model writes to the description, and their errors reach it in the repair round. */
const VALIDATOR_ONLY = new Set(['maxLength', 'not', MESSAGES_KEYWORD]);

/**
 * An input schema as the model is shown it: without the keywords only the validator needs, and without the
 * pattern of an input whose description already says what to write. The regexes and limits cost tokens on
 * every model call and tell a model less than the description; the whole schema still validates the proposal.
 */
export function modelFacingSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(modelFacingSchema);
  if (typeof schema !== 'object' || schema === null) return schema;
  const described = typeof (schema as Record<string, unknown>).description === 'string';
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key]) => !VALIDATOR_ONLY.has(key) && !(key === 'pattern' && described))
      // A property literally named like a keyword is kept: only schema keywords are dropped.
      .map(([key, value]) => [key, key === 'properties' ? Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([name, property]) => [name, modelFacingSchema(property)])) : modelFacingSchema(value)]),
  );
}

/**
 * Where a path input may point is the catalog's pathRoots, not anything in the schema: said in the input's
 * description, or a model learns it only from a refusal in the repair round.
 */
function withPathRoots(inputs: unknown, pathRoots: Readonly<Record<string, readonly string[]>>): unknown {
  const properties = (inputs as { properties?: Record<string, Record<string, unknown>> }).properties;
  if (!properties || Object.keys(pathRoots).length === 0) return inputs;
  const described = Object.fromEntries(
    Object.entries(properties).map(([name, property]) => {
      const roots = pathRoots[name];
      if (!roots) return [name, property];
      const said = `under ${roots.join(', ')}`;
      return [name, { ...property, description: typeof property.description === 'string' ? `${property.description} (${said})` : said }];
    }),
  );
  return { ...(inputs as object), properties: described };
}

/**
 * The JSON Schema the model sees for submit_proposal: each allowed action with its own input schema,
 * so the model is told exactly what it may propose. Validation does not rely on the provider honouring it.
 */
export function proposalToolSchema(catalog: Catalog, allowed: readonly string[]): Record<string, unknown> {
  // Each action's title and description are in the system prompt already; the schema says only what to send.
  const actions = allowed.map((id) => {
    const entry = catalog.get(id)!;
    return {
      type: 'object',
      properties: { id: { const: id }, inputs: withPathRoots(modelFacingSchema(entry.inputs), entry.pathRoots) },
      required: ['id', 'inputs'],
      additionalProperties: false,
    };
  });
  return {
    type: 'object',
    properties: {
      diagnosis: { type: 'string' },
      evidence: {
        type: 'array',
        minItems: 1,
        items: { type: 'object', properties: { source: { type: 'string' }, summary: { type: 'string' } }, required: ['source', 'summary'], additionalProperties: false },
      },
      action: { anyOf: [...actions, { type: 'null' }] },
      risk: { type: 'string', enum: ['low', 'medium', 'high'] },
      confidence: { type: 'number', minimum: 0, maximum: 1 },
    },
    required: ['diagnosis', 'evidence', 'action', 'risk', 'confidence'],
    additionalProperties: false,
  };
}

// Words every section title shares, which say nothing about which section was meant.
const FILLER = new Set(['over', 'the', 'last', 'min', 'same', 'with', 'from', 'and', 'for', 'other', 'recent', 'tool', 'query', 'none', 'evidence', 'provided']);

function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9_]+/)
    .filter((word) => word.length >= 3 && !FILLER.has(word));
}

/**
 * True when an evidence source names something the model was shown: a context section (by a telling word
 * of its title, since models shorten titles) or a tool it called (by name).
 */
export function citesShownSource(source: string, shown: readonly string[]): boolean {
  const lower = source.toLowerCase();
  const cited = new Set(words(source));
  return shown.some((name) => {
    if (/^[a-z0-9_]+$/i.test(name)) return lower.includes(name.toLowerCase());
    return words(name).some((word) => cited.has(word));
  });
}

/**
 * Checks model output against the schema, the route's allowed actions and the action's input schema, and
 * that each piece of evidence cites something the model was shown (`shown`: context section titles and
 * the names of the tools it called).
 */
export function checkAgentProposal(raw: unknown, catalog: Catalog, allowed: readonly string[], gathered: readonly EvidenceItem[], shown: readonly string[]): ProposalCheck {
  const parsed = AgentProposalSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(proposal)'}: ${issue.message}`) };
  }
  const output = parsed.data;
  const uncited = output.evidence.flatMap((item, index) => (citesShownSource(item.source, shown) ? [] : [index]));
  if (uncited.length > 0) {
    const choices = shown.map((name) => JSON.stringify(name)).join(', ');
    return { ok: false, problems: uncited.map((i) => `evidence.${i}.source: ${JSON.stringify(output.evidence[i]!.source)} is neither a context section nor a tool you called; cite one of ${choices}`) };
  }
  if (output.action) {
    if (!allowed.includes(output.action.id)) {
      return { ok: false, problems: [`action.id: ${quoteValue(output.action.id)} is not an action you may propose; choose one of ${allowed.join(', ') || '(none)'} or null`] };
    }
    const problems = catalog.inputProblems(output.action.id, output.action.inputs);
    if (problems.length > 0) return { ok: false, problems: problems.map((problem) => formatInputProblem(problem, 'action.inputs')) };
  }
  return {
    ok: true,
    proposal: {
      diagnosis: output.diagnosis,
      evidence: [...gathered, ...output.evidence.map((e) => ({ kind: 'agent', summary: e.summary, data: { source: e.source } }))],
      action: output.action,
      risk: output.risk,
      confidence: output.confidence,
      source: 'agent',
    },
  };
}
