import { gatherEvidence } from '../../agent/gather-evidence.js';
import type { Incident } from '../../domain/incident-record.js';
import type { EvidenceItem } from '../../domain/proposal.js';
import { step } from '../durable-runtime.js';
import type { WorkflowDeps } from '../workflow-deps.js';

/** What the alert says about itself plus its rule expression evaluated now; read-only. */
export function evidenceStep(d: WorkflowDeps, incident: Incident): Promise<EvidenceItem[]> {
  return step('gather-evidence', () => d.timed('evidence', () => gatherEvidence(incident, d.prometheus)));
}
