import type { Route } from '../config/config.schema.js';
import type { NormalizedAlert } from '../domain/alert.js';
import { labelMatches } from '../domain/label-match.js';
import type { RouteChoice } from '../domain/incident.js';

/** First route whose matchers all hold picks the mode; no match means "store and show, do not act". */
export function routeAlert(routes: readonly Route[], alert: NormalizedAlert): RouteChoice | null {
  const route = routes.find((r) => r.matchers.every((m) => labelMatches(alert.labels, m)));
  return route ? { route: route.name, mode: route.mode } : null;
}
