import type { Logger } from 'pino';
import { TERMINAL_STATES, IncidentStateSchema, type IncidentState } from '../domain/incident.js';
import type { ApprovalStore } from '../store/approvals.js';
import type { IncidentStore } from '../store/incidents.js';
import { cancelDurableWorkflow, listPendingWorkflowsOfOtherVersions } from './durable-runtime.js';
import { RESPONDER } from './workflow-deps.js';

const INCIDENT_WORKFLOW_ID = /^incident-([0-9a-f-]{36})$/;
const OPEN_STATES: IncidentState[] = IncidentStateSchema.options.filter((state) => !TERMINAL_STATES.includes(state));

export interface OlderReleaseDeps {
  incidents: Pick<IncidentStore, 'get' | 'transition'>;
  approvals: Pick<ApprovalStore, 'openFor' | 'finish'>;
  log: Logger;
}

/**
 * An incident whose workflow an older release started (a different WORKFLOW_VERSION) would otherwise wait
 * for ever: this release cannot replay its steps, and a decision sent to it would be accepted and never
 * acted on. It fails visibly instead, its open approval request is closed so nobody approves into the
 * void, and its workflow is cancelled. An incident caught mid-execution says the run must be checked by
 * hand: whether the remediation ran is not known.
 */
export async function failWorkflowsOfOlderReleases(deps: OlderReleaseDeps): Promise<string[]> {
  const failed: string[] = [];
  for (const { workflowId, version } of await listPendingWorkflowsOfOtherVersions()) {
    const incidentId = INCIDENT_WORKFLOW_ID.exec(workflowId)?.[1];
    const incident = incidentId ? await deps.incidents.get(incidentId) : null;
    if (incident && OPEN_STATES.includes(incident.state)) {
      const unknownRun = incident.state === 'executing' || incident.state === 'verifying' ? '; a remediation may have run: check the target by hand' : '';
      const reason = `started by a release with workflow ${version}, which this release cannot resume; nothing more will run for it${unknownRun}`;
      const request = await deps.approvals.openFor(incident.id);
      if (request) await deps.approvals.finish(request.id, 'closed', reason);
      if (await deps.incidents.transition(incident.id, { from: OPEN_STATES, to: 'failed', actor: RESPONDER, reason, audit: { workflowVersion: version } })) failed.push(incident.id);
    }
    await cancelDurableWorkflow(workflowId);
    deps.log.warn({ workflow: workflowId, version, incident: incidentId ?? null }, 'cancelled a workflow an older release started');
  }
  return failed;
}
