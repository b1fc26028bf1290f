import { gatherEvidence } from '../../agent/gather-evidence.js';
import type { Incident } from '../../domain/incident-record.js';
import type { EvidenceItem } from '../../domain/proposal.js';
import { CHANGE_QUERY_ANNOTATION } from '../../agent/context-pack.js';
import type { TrustedExpression } from '../../verification/trusted-expression.js';
import { step } from '../durable-runtime.js';
import { DB_RETRIES, type WorkflowDeps } from '../workflow-deps.js';

/** The alert as Responder will treat it: its expression replaced by the trusted one (or none). */
export async function trustedIncidentStep(d: WorkflowDeps, incident: Incident): Promise<{ incident: Incident; trusted: TrustedExpression }> {
  const trusted = await step('resolve-expression', () => d.resolveExpression(incident), { retries: DB_RETRIES });
  const annotations = { ...incident.annotations };
  // A LogQL change query carried by the alert is, like its expression, the sender's choice of what to run.
  if (trusted.source !== 'alert') delete annotations[CHANGE_QUERY_ANNOTATION];
  return { incident: { ...incident, expression: trusted.expression, annotations }, trusted };
}

/** What the alert says about itself plus its rule expression evaluated now; read-only. */
export function evidenceStep(d: WorkflowDeps, incident: Incident, trusted: TrustedExpression): Promise<EvidenceItem[]> {
  return step('gather-evidence', async () => {
    const evidence = await d.timed('evidence', () => gatherEvidence(incident, d.prometheus));
    const claimIgnored = trusted.alertClaim !== null && trusted.alertClaim !== trusted.expression;
    const note: EvidenceItem = {
      kind: 'expression',
      summary: trusted.expression
        ? `evaluates ${trusted.expression} (${trusted.reason})${claimIgnored ? `; the alert's own expression ${trusted.alertClaim} is its claim and was not run` : ''}`
        : `no rule expression is run: ${trusted.reason}${trusted.alertClaim ? `; the alert's own expression ${trusted.alertClaim} is its claim and was not run` : ''}`,
      data: { source: trusted.source, expression: trusted.expression, alertClaim: trusted.alertClaim },
    };
    return [evidence[0]!, note, ...evidence.slice(1)];
  });
}
