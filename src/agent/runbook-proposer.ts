import type { EvidenceItem, Proposal } from '../domain/proposal.js';
import type { JsonObject } from '../domain/json-value.js';
import type { Catalog } from '../remediation/catalog.js';
import type { Incident } from '../domain/incident-record.js';

/** The annotation (or label) that names a catalog action for an alert, as a runbook would. */
export const REMEDIATION_KEY = 'remediation';

function resolveSource(source: string, incident: Incident): string | undefined {
  if (source.startsWith('labels.')) return incident.labels[source.slice('labels.'.length)];
  if (source.startsWith('annotations.')) return incident.annotations[source.slice('annotations.'.length)];
  if (source.startsWith('value:')) return source.slice('value:'.length);
  return undefined;
}

function noAction(diagnosis: string, evidence: EvidenceItem[]): Proposal {
  return { diagnosis, evidence, action: null, risk: 'low', confidence: 0, source: 'none' };
}

/**
 * Maps an alert to ONE catalog action the way a runbook does: the alert names the action
 * (`remediation` annotation or label) and the catalog entry says which labels fill its inputs.
 * The proposal is validated against the entry's JSON Schema; anything invalid becomes "no action".
 */
export function proposeFromRunbook(incident: Incident, evidence: EvidenceItem[], catalog: Catalog, allowedActions: readonly string[]): Proposal {
  const actionId = incident.annotations[REMEDIATION_KEY] ?? incident.labels[REMEDIATION_KEY];
  const summary = incident.annotations.summary ?? incident.annotations.description ?? incident.alertName;
  if (!actionId) return noAction(`${summary}. No runbook action is mapped to this alert; a human needs to look.`, evidence);
  const entry = catalog.get(actionId);
  if (!entry) return noAction(`${summary}. The alert names remediation "${actionId}", which is not in the catalog.`, evidence);
  if (allowedActions.length > 0 && !allowedActions.includes(actionId)) {
    return noAction(`${summary}. Remediation "${actionId}" is not allowed on this alert's route.`, evidence);
  }
  const inputs: JsonObject = {};
  for (const [name, source] of Object.entries(entry.runbook.inputs)) {
    const value = resolveSource(source, incident);
    if (value !== undefined) inputs[name] = value;
  }
  const problems = catalog.validateInputs(actionId, inputs);
  if (problems.length > 0) {
    return noAction(`${summary}. Runbook action "${actionId}" cannot be filled from this alert: ${problems.join('; ')}`, evidence);
  }
  const stillFiring = evidence.find((e) => e.kind === 'prometheus.instant');
  return {
    diagnosis: `${summary}. Runbook maps ${incident.alertName} to ${entry.title.toLowerCase()}.`,
    evidence,
    action: { id: actionId, inputs },
    risk: entry.risk,
    // A runbook mapping is a human's standing decision; confidence reflects whether the condition still holds.
    confidence: stillFiring && stillFiring.summary.startsWith('rule expression is no longer true') ? 0.5 : 0.9,
    source: 'runbook',
  };
}
