import type { Incident } from '../domain/incident-record.js';
import type { PrometheusRule } from '../tools/prometheus-api.js';

/**
 * rules-api: the rule's own expression, read from Prometheus. alert: the expression the alert carried,
 * used only because intake.trustAlertExpressions is on. none: nothing trustworthy to run.
 */
export interface TrustedExpression {
  expression: string | null;
  source: 'rules-api' | 'alert' | 'none';
  /** What the alert itself claimed (annotation or generatorURL); shown, run only when trusted. */
  alertClaim: string | null;
  reason: string;
}

/**
 * The expression that evidence and verification may run. Whoever can shape an alert must not decide
 * what "fixed" means, so the alert's own expression is only a claim: the rule is looked up in
 * Prometheus's rules API by alert name and the rule's static labels, which the alert must carry.
 */
export async function resolveTrustedExpression(args: {
  incident: Pick<Incident, 'alertName' | 'labels' | 'expression'>;
  rules: (() => Promise<PrometheusRule[]>) | null;
  trustAlertExpressions: boolean;
}): Promise<TrustedExpression> {
  const claim = args.incident.expression;
  if (args.trustAlertExpressions && claim) return { expression: claim, source: 'alert', alertClaim: claim, reason: 'intake.trustAlertExpressions is on: the alert’s own expression is used' };
  if (!args.rules) return { expression: null, source: 'none', alertClaim: claim, reason: 'no Prometheus configured to look the rule up in' };
  let rules: PrometheusRule[];
  try {
    rules = await args.rules();
  } catch (error) {
    return { expression: null, source: 'none', alertClaim: claim, reason: `could not read Prometheus's rules: ${(error as Error).message}` };
  }
  const matching = rules.filter(
    (rule) => rule.type === 'alerting' && rule.name === args.incident.alertName && Object.entries(rule.labels).every(([name, value]) => args.incident.labels[name] === value),
  );
  const queries = [...new Set(matching.map((rule) => rule.query))];
  if (queries.length === 1) return { expression: queries[0]!, source: 'rules-api', alertClaim: claim, reason: `the rule ${args.incident.alertName} as Prometheus evaluates it` };
  if (queries.length === 0) return { expression: null, source: 'none', alertClaim: claim, reason: `Prometheus has no alerting rule ${args.incident.alertName} whose labels this alert carries` };
  return { expression: null, source: 'none', alertClaim: claim, reason: `${queries.length} different rules named ${args.incident.alertName} match this alert; none is chosen` };
}
