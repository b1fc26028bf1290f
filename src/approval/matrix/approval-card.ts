import type { ApprovalRequest } from '../../domain/approval.js';
import type { Incident } from '../../domain/incident-record.js';
import { clip, escapeHtml, defuse, message, type MatrixMessage } from './matrix-text.js';

/** The id people type in commands: the start of the request id, enough to tell cards apart. */
export function shortId(requestId: string): string {
  return requestId.slice(0, 8);
}

export interface CardOptions {
  /** Where people reach the web UI; the card links the incident page when set. */
  publicUrl: string | null;
}

const STATE_WORDS: Record<ApprovalRequest['state'], string> = {
  open: 'waiting for decisions',
  approved: 'APPROVED',
  rejected: 'REJECTED',
  superseded: 'SUPERSEDED by a modified request',
  expired: 'EXPIRED without a decision',
  closed: 'CLOSED (the alert resolved)',
};

export function incidentLink(publicUrl: string | null, incidentId: string): string | null {
  return publicUrl ? `${publicUrl.replace(/\/+$/, '')}/incidents/${incidentId}` : null;
}

/** "alice ✅ (matrix), bob ❌ (web)": who decided, how, and where. */
export function decisionsLine(request: ApprovalRequest): string {
  if (request.decisions.length === 0) return 'none yet';
  return request.decisions.map((d) => `${d.approver} ${d.approved ? '✅' : '❌'} (${d.channel})`).join(', ');
}

interface Line {
  label: string;
  /** Untrusted text: escaped, defused and shown as code in HTML. */
  value: string;
  code?: boolean;
}

/**
 * The approval card: what Responder found and proposes, what policy said, who has decided and until when.
 * Everything that came from the alert, the logs or the model is untrusted: it is clipped, escaped and
 * defused (no links, no pings); the only link is the incident page on the configured public URL.
 */
export function renderApprovalCard(incident: Incident, request: ApprovalRequest, options: CardOptions): MatrixMessage {
  const id = shortId(request.id);
  const title = `${clip(incident.alertName, 120)} on ${clip(incident.instance ?? 'unknown instance', 120)}`;
  const context: string[] = [
    `severity ${clip(incident.severity, 40)}`,
    ...Object.entries(incident.labels)
      .filter(([key]) => key !== 'alertname')
      .slice(0, 6)
      .map(([key, value]) => `${clip(key, 40)}=${clip(value, 80)}`),
    ...(incident.annotations.summary ? [clip(incident.annotations.summary, 200)] : []),
    ...(incident.evidence ?? []).slice(0, 4).map((e) => clip(e.summary, 200)),
  ];
  const dryRun = incident.dryRun;
  const dryRunText = !dryRun
    ? 'not run'
    : dryRun.skipped
      ? 'skipped (the action has no dry run)'
      : `${dryRun.ok ? 'ok' : 'FAILED'}${dryRun.output ? `: ${clip(dryRun.output.split('\n').filter((l) => l.trim()).slice(-3).join(' | '), 240)}` : ''}`;
  const lines: Line[] = [
    { label: 'Diagnosis', value: clip(incident.proposal?.diagnosis ?? 'no diagnosis recorded', 400) },
    { label: 'Proposed fix', value: `${clip(request.actionId, 80)} ${clip(JSON.stringify(request.inputs), 300)}`, code: true },
    { label: 'Risk', value: `${request.risk} (the catalog's)` },
    { label: 'Dry run', value: dryRunText },
    { label: 'Policy', value: request.policyReasons.length > 0 ? clip(request.policyReasons.join('; '), 300) : 'asks for approval' },
    { label: 'Approvals', value: `${request.decisions.filter((d) => d.approved).length} of ${request.approvalsRequired} needed — ${decisionsLine(request)}` },
    { label: 'Deadline', value: `${request.deadline.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}` },
    { label: 'State', value: STATE_WORDS[request.state] },
  ];
  const link = incidentLink(options.publicUrl, incident.id);
  const how = `React ✅ to approve or ❌ to reject, or reply: !approve ${id} [reason] · !reject ${id} <reason> · !status ${id}`;

  const plain = [
    `Approval needed: ${defuse(title)}`,
    `Incident ${incident.id} · request ${id} (round ${request.round})`,
    ...context.map((c) => `• ${defuse(c)}`),
    ...lines.map((l) => `${l.label}: ${defuse(l.value)}`),
    ...(link ? [`Incident page: ${link}`] : []),
    ...(request.state === 'open' ? [how] : []),
  ].join('\n');

  const html = [
    `<h4>Approval needed: ${escapeHtml(title)}</h4>`,
    `<p>Incident <code>${escapeHtml(incident.id)}</code> · request <code>${id}</code> (round ${request.round})</p>`,
    context.length > 0 ? `<ul>${context.map((c) => `<li>${escapeHtml(c)}</li>`).join('')}</ul>` : '',
    `<p>${lines.map((l) => `<b>${l.label}:</b> ${l.code ? `<code>${escapeHtml(l.value)}</code>` : escapeHtml(l.value)}`).join('<br>')}</p>`,
    link ? `<p><a href="${escapeHtml(link)}">Open the incident page</a></p>` : '',
    request.state === 'open' ? `<p>${escapeHtml(how)}</p>` : '',
  ].join('');
  return message(plain, html);
}

/** A short line in the card's thread; `text` may hold untrusted parts and is escaped for HTML. */
export function threadLine(text: string, options: { mentions?: string[] } = {}): MatrixMessage {
  const mentions = options.mentions ?? [];
  // Mentions are the one place the bot pings people on purpose: they come from config, not from an alert.
  const prefix = mentions.length > 0 ? `${mentions.join(' ')}: ` : '';
  const htmlPrefix = mentions.length > 0 ? `${mentions.map((m) => `<a href="https://matrix.to/#/${encodeURIComponent(m)}">${escapeHtml(m).replaceAll('@\u2060', '@')}</a>`).join(' ')}: ` : '';
  return message(`${prefix}${defuse(text)}`, `${htmlPrefix}${escapeHtml(text)}`, { notice: true, mentions });
}
