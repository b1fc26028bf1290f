/**
 * Where an alert's PromQL condition can be found. An annotation wins over the generator URL because
 * a rule author who writes one means it (the URL can point at a recording rule or a rewritten query).
 */
const EXPRESSION_ANNOTATIONS = ['responder_expr', 'expr'] as const;

export function expressionFromAnnotations(annotations: Record<string, string>): string | null {
  for (const key of EXPRESSION_ANNOTATIONS) {
    const expression = annotations[key]?.trim();
    if (expression) return expression;
  }
  return null;
}

/** Prometheus links each alert to `<external URL>/graph?g0.expr=<expr>&g0.tab=1`. */
export function expressionFromPrometheusURL(generatorURL: string | null): string | null {
  if (!generatorURL) return null;
  let url: URL;
  try {
    // Without --web.external-url Prometheus may send a bare path; the base only makes it parseable.
    url = new URL(generatorURL, 'http://generator.invalid');
  } catch {
    return null;
  }
  return url.searchParams.get('g0.expr')?.trim() || null;
}
