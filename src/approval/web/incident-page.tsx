import type { ApprovalRequest } from '../../domain/approval.js';
import { hasRole } from '../../domain/identity.js';
import type { IncidentRecord } from '../../domain/incident-record.js';
import type { JsonObject } from '../../domain/json-value.js';
import { DecisionForm } from './decision-form.js';
import { Layout, StateBadge, type PageContext } from './layout.js';
import { SeriesChart, seriesPoints } from './series-chart.js';

/** Only links a browser can follow safely: an alert's generatorURL is sender-controlled text. */
function safeLink(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.toString() : null;
  } catch {
    return null;
  }
}

function Pairs(props: { values: Record<string, unknown> }) {
  const entries = Object.entries(props.values);
  if (entries.length === 0) return <p class="muted">none</p>;
  return (
    <dl class="pairs">
      {entries.map(([k, v]) => (
        <>
          <dt>{k}</dt>
          <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
        </>
      ))}
    </dl>
  );
}

/** ansible --diff output with added and removed lines marked by sign and class, not colour alone. */
function DiffOutput(props: { text: string }) {
  return (
    <pre class="diff">
      {props.text.split('\n').map((line) => (
        <span class={line.startsWith('+') && !line.startsWith('+++') ? 'add' : line.startsWith('-') && !line.startsWith('---') ? 'del' : undefined}>
          {line}
          {'\n'}
        </span>
      ))}
    </pre>
  );
}

function RequestSummary(props: { request: ApprovalRequest }) {
  const { request } = props;
  const approvals = request.decisions.filter((d) => d.approved);
  return (
    <div class="request">
      <p>
        Round {request.round}: <StateBadge state={request.state} /> — {approvals.length} of {request.approvalsRequired} approval(s)
        {request.state === 'open' ? (
          <>
            {' '}
            · deadline <time datetime={request.deadline} data-deadline={request.deadline}>{request.deadline.replace('T', ' ').slice(0, 19)} UTC</time>
          </>
        ) : null}
      </p>
      <p>
        {request.actionId} with <code>{JSON.stringify(request.inputs)}</code> · catalog risk <b>{request.risk}</b>
      </p>
      {request.policyReasons.length ? (
        <ul class="reasons">
          {request.policyReasons.map((r) => (
            <li>{r}</li>
          ))}
        </ul>
      ) : null}
      {request.decisions.length ? (
        <ul class="decisions">
          {request.decisions.map((d) => (
            <li>
              <b>{d.approver}</b> {d.approved ? (d.modifications ? 'approved with changes' : 'approved') : 'rejected'} via {d.channel} at{' '}
              <time datetime={d.createdAt}>{d.createdAt.replace('T', ' ').slice(0, 19)}</time>: “{d.reason}”
            </li>
          ))}
        </ul>
      ) : null}
      {request.stateReason && request.state !== 'open' ? <p class="muted">{request.stateReason}</p> : null}
    </div>
  );
}

export interface IncidentPageProps {
  page: PageContext;
  record: IncidentRecord;
  /** JSON Schema of the proposed action's inputs, for the modify form. */
  inputsSchema: Record<string, unknown> | null;
  notice?: string;
  error?: { detail: string; errors?: { path: string; message: string }[] };
}

export function IncidentPage(props: IncidentPageProps) {
  const { record, page } = props;
  const latest = record.alerts.at(-1)?.alert;
  const source = safeLink(latest?.generatorURL);
  const open = record.approvalRequests.find((r) => r.state === 'open');
  const canDecide = page.identity !== null && hasRole(page.identity.role, 'approver');
  // A remediation or rollback waiting for its target or running: an admin may stop it.
  const cancellable = record.runs.find((r) => r.kind !== 'dry-run' && (r.state === 'claimed' || r.state === 'running'));
  const proposal = record.proposal;
  const investigation = record.investigation;
  return (
    <Layout title={record.alertName} page={page}>
      <p>
        <a href="/">← Incidents</a>
      </p>
      <h1>
        {record.alertName} <StateBadge state={record.state} />
      </h1>
      <p class="lead" data-live-incident={record.id} data-updated={record.updatedAt}>
        {record.severity} on {record.instance ?? 'no instance'} · route {record.route ?? 'none'} ({record.mode ?? 'not acted on'})
        {record.stateReason ? <> · {record.stateReason}</> : null}
      </p>
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}

      <section aria-labelledby="h-decide">
        <h2 id="h-decide">Decision</h2>
        {open ? <RequestSummary request={open} /> : <p>Nothing is waiting for a decision.</p>}
        {open && canDecide && props.inputsSchema ? <DecisionForm incidentId={record.id} request={open} inputsSchema={props.inputsSchema} csrf={page.csrf} error={props.error} /> : null}
        {open && !canDecide ? <p class="muted">You can see this request but not decide on it (your role is {page.identity?.role ?? 'anonymous'}).</p> : null}
        {props.error && !(open && canDecide) ? (
          <p class="error" role="alert">
            {props.error.detail}
          </p>
        ) : null}
      </section>

      <section aria-labelledby="h-alert">
        <h2 id="h-alert">What fired</h2>
        <h3>Labels</h3>
        <Pairs values={record.labels} />
        <h3>Annotations</h3>
        <Pairs values={record.annotations} />
        {source ? (
          <p>
            <a href={source} rel="noopener noreferrer nofollow">
              Open the alert's source (Prometheus / Grafana)
            </a>
          </p>
        ) : null}
      </section>

      <section aria-labelledby="h-found">
        <h2 id="h-found">What Responder found</h2>
        {proposal ? <p class="diagnosis">{proposal.diagnosis}</p> : <p class="muted">No diagnosis yet.</p>}
        {(record.evidence ?? []).map((item) => {
          const points = seriesPoints(item.data);
          return (
            <div class="evidence">
              <p>
                <span class="kind">{item.kind}</span> {item.summary}
              </p>
              <SeriesChart points={points} caption={item.summary} />
            </div>
          );
        })}
      </section>

      <section aria-labelledby="h-proposal">
        <h2 id="h-proposal">Proposed action</h2>
        {proposal?.action ? (
          <>
            <p>
              <b>{proposal.action.id}</b> ({proposal.source}) — the proposer rates it {proposal.risk} risk at {Math.round(proposal.confidence * 100)}% confidence (its own claim; policy uses the
              catalog's class{open ? `: ${open.risk}` : ''})
            </p>
            <Pairs values={proposal.action.inputs as JsonObject} />
          </>
        ) : (
          <p class="muted">No action proposed.</p>
        )}
      </section>

      <section aria-labelledby="h-dryrun">
        <h2 id="h-dryrun">Dry-run</h2>
        {record.dryRun ? (
          <>
            <p>
              <span class={`badge badge-${record.dryRun.ok ? 'ok' : record.dryRun.skipped ? 'wait' : 'bad'}`}>
                <span aria-hidden="true">{record.dryRun.ok ? '✓' : record.dryRun.skipped ? '–' : '✕'}</span>{' '}
                {record.dryRun.ok ? 'dry-run passed' : record.dryRun.skipped ? 'no dry-run: this executor cannot do one' : 'dry-run failed'}
              </span>{' '}
              {record.dryRun.outcome}
              {record.dryRun.failure ? ` (${record.dryRun.failure})` : ''} (exit {record.dryRun.exitCode ?? '-'})
            </p>
            <DiffOutput text={record.dryRun.output} />
          </>
        ) : (
          <p class="muted">Not run.</p>
        )}
      </section>

      <section aria-labelledby="h-policy">
        <h2 id="h-policy">Policy</h2>
        {record.decision ? (
          <>
            <p>
              {record.decision.allow ? 'Allowed' : 'Denied'} · {record.decision.approvals_required} approval(s) required · {record.decision.evaluator}
            </p>
            <ul class="reasons">
              {[...record.decision.deny, ...record.decision.reasons].map((r) => (
                <li>{r}</li>
              ))}
            </ul>
          </>
        ) : (
          <p class="muted">Not asked yet.</p>
        )}
        {record.approvalRequests.filter((r) => r.state !== 'open').length ? (
          <>
            <h3>Earlier rounds</h3>
            {record.approvalRequests
              .filter((r) => r.state !== 'open')
              .map((r) => (
                <RequestSummary request={r} />
              ))}
          </>
        ) : null}
      </section>

      <section aria-labelledby="h-runs">
        <h2 id="h-runs">Runs and verification</h2>
        {record.runs.length ? (
          record.runs.map((run) => (
            <details>
              <summary>
                {run.kind} of {run.actionId} on {run.target}: {run.state}
                {run.failure ? ` (${run.failure})` : ''}
                {run.cancelledBy ? ` by ${run.cancelledBy}` : ''} (exit {run.exitCode ?? '-'})
              </summary>
              <DiffOutput text={run.output ?? ''} />
            </details>
          ))
        ) : (
          <p class="muted">Nothing has run.</p>
        )}
        {cancellable && page.identity && hasRole(page.identity.role, 'admin') ? (
          <form method="post" action={`/incidents/${record.id}/cancel`} class="cancel-run">
            {page.csrf ? <input type="hidden" name="csrf" value={page.csrf} /> : null}
            <label for="cancel-reason">Why stop it (goes into the audit trail)</label>
            <input id="cancel-reason" name="reason" required maxlength={1000} />
            <button type="submit">
              Cancel the {cancellable.kind} of {cancellable.actionId} ({cancellable.state === 'claimed' ? 'waiting' : 'running'})
            </button>
          </form>
        ) : null}
        {record.verification ? <p>Verification: {record.verification.outcome === 'skipped' ? `skipped (${record.verification.reason})` : record.verification.outcome.replaceAll('_', ' ')}</p> : null}
      </section>

      {investigation ? (
        <section aria-labelledby="h-investigation">
          <h2 id="h-investigation">Investigation</h2>
          <details>
            <summary>
              {investigation.provider}/{investigation.model}: {investigation.modelCalls} model call(s), {investigation.toolCalls} tool call(s), {investigation.usage.totalTokens} tokens, $
              {investigation.usage.costUsd.toFixed(4)}
            </summary>
            <ol>
              {investigation.transcript.map((entry) => (
                <li>
                  {entry.kind === 'tool-call'
                    ? `${entry.tool} (${entry.server}) ${entry.isError ? 'error' : 'ok'}, ${entry.shownBytes} bytes shown`
                    : entry.kind === 'model-call'
                      ? `model call ${entry.step}: ${entry.inputTokens} in, ${entry.outputTokens} out (${entry.finishReason})`
                      : entry.kind}
                </li>
              ))}
            </ol>
          </details>
        </section>
      ) : null}

      <section aria-labelledby="h-audit">
        <h2 id="h-audit">Audit timeline</h2>
        <ol class="timeline">
          {record.audit.map((event) => (
            <li>
              <time datetime={event.at}>{event.at.replace('T', ' ').slice(0, 19)}</time> <b>{event.actor}</b> {event.kind}
              {event.kind === 'incident.state' ? ` ${String(event.data.from)} → ${String(event.data.to)}` : ''}
            </li>
          ))}
        </ol>
      </section>
    </Layout>
  );
}
