export type MatchOperator = '=' | '!=' | '=~' | '!~';

/**
 * One label matcher as Prometheus and Alertmanager read it: an absent label is the empty string and a
 * regex must match the whole value. `compile` lets a caller report a bad regex its own way.
 */
export function labelMatches(
  labels: Record<string, string>,
  matcher: { name: string; operator: MatchOperator; value: string },
  compile: (pattern: string) => RegExp = (pattern) => new RegExp(`^(?:${pattern})$`),
): boolean {
  const value = labels[matcher.name] ?? '';
  switch (matcher.operator) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return compile(matcher.value).test(value);
    case '!~':
      return !compile(matcher.value).test(value);
  }
}
