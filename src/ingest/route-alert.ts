import type { LabelMatcher, Route } from '../config/config.schema.js';
import type { NormalizedAlert } from '../domain/alert.js';
import type { RouteChoice } from '../store/incident-store.js';

function matches(matcher: LabelMatcher, labels: Record<string, string>): boolean {
  // As in Alertmanager, an absent label reads as the empty string.
  const value = labels[matcher.name] ?? '';
  switch (matcher.operator) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return new RegExp(`^(?:${matcher.value})$`).test(value);
    case '!~':
      return !new RegExp(`^(?:${matcher.value})$`).test(value);
  }
}

/** First route whose matchers all hold picks the mode; no match means "store and show, do not act". */
export function routeAlert(routes: readonly Route[], alert: NormalizedAlert): RouteChoice | null {
  const route = routes.find((r) => r.matchers.every((m) => matches(m, alert.labels)));
  return route ? { route: route.name, mode: route.mode } : null;
}
