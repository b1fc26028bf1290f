import { z } from 'zod';
import { InvalidArgumentError } from '../domain/errors.js';
import { labelMatches } from '../domain/label-match.js';

// A fresh schema per use: a shared instance becomes a JSON Schema $ref, which some model APIs refuse.
function labelMatcherSchema() {
  return z.object({
    name: z.string(),
    value: z.string(),
    type: z.enum(['=', '!=', '=~', '!~']).default('='),
  });
}

/** mcp-grafana's label matcher: `{ name, value, type }` with PromQL's four operators. */
export const LabelMatcherSchema = labelMatcherSchema();
export type LabelMatcher = z.infer<typeof LabelMatcherSchema>;

/** mcp-grafana's selector: every filter must match. */
export const SelectorSchema = z.object({ filters: z.array(labelMatcherSchema()) });
export type Selector = z.infer<typeof SelectorSchema>;

/** A selector as mcp-grafana writes it, or a bare matcher, which models often send instead. */
export const SelectorArgumentSchema = z.union([SelectorSchema, LabelMatcherSchema]);
export type SelectorArgument = z.infer<typeof SelectorArgumentSchema>;

export function toSelector(argument: SelectorArgument): Selector {
  return 'filters' in argument ? argument : { filters: [argument] };
}

/** `{job="node",instance=~"web.*"}`, the form Prometheus takes in `match[]`. */
export function selectorToPromQl(selector: Selector): string {
  return `{${selector.filters.map((f) => `${f.name}${f.type}${JSON.stringify(f.value)}`).join(',')}}`;
}

function compile(pattern: string): RegExp {
  try {
    // Prometheus anchors label regexes at both ends.
    return new RegExp(`^(?:${pattern})$`);
  } catch (error) {
    throw new InvalidArgumentError('invalid_argument', `the regex ${JSON.stringify(pattern)} is invalid: ${(error as Error).message}`, {}, { cause: error });
  }
}

/** True when every filter matches; a missing label reads as the empty string, as in PromQL. */
export function matchesSelector(selector: Selector, labels: Record<string, string>): boolean {
  return selector.filters.every((filter) => labelMatches(labels, { name: filter.name, operator: filter.type, value: filter.value }, compile));
}
