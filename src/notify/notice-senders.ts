import type { JsonObject } from '../domain/json-value.js';
import type { OutboxMessage } from '../store/outbox.js';
import type { IncidentNotice } from './incident-notice.js';
import type { DeliveryOutcome } from './outbox-worker.js';

const WORD_JOINER = '\u2060';
const TIMEOUT_MS = 10_000;

/**
 * Alert text in a chat message must not ping or link: Slack reads <!channel>, <@U…> and <url|label>,
 * Mattermost and Rocket.Chat read @channel, @all and @here. Slack's own escaping (&, <, >) plus a word
 * joiner after every "@" makes them plain text everywhere.
 */
export function chatSafe(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replaceAll('@', `@${WORD_JOINER}`);
}

const ICONS: Record<IncidentNotice['kind'], string> = {
  'incident-started': '🔎',
  'policy-denied': '⛔',
  'approval-requested': '🙋',
  'approval-expired': '⏰',
  executing: '⚙️',
  result: '📋',
  error: '💥',
};

/** The Slack incoming-webhook body: {"text": …}, which Mattermost, Rocket.Chat and Matrix hookshot take too. */
export function webhookBody(notice: IncidentNotice): JsonObject {
  const text = `${ICONS[notice.kind]} [Responder] ${chatSafe(notice.subject)}: ${chatSafe(notice.detail)}${notice.link ? ` — ${notice.link}` : ''}`;
  return { text };
}

/**
 * ntfy's JSON publishing (POST to the server root with the topic inside): no header carries alert text,
 * so a title with a line break or non-Latin characters can neither break nor inject a header.
 */
export function ntfyBody(notice: IncidentNotice, topicUrl: string, priority: number): { serverUrl: string; body: JsonObject } {
  const url = new URL(topicUrl);
  const segments = url.pathname.split('/').filter(Boolean);
  const topic = segments.pop() ?? '';
  // A server behind a path prefix keeps it: publishing goes to the prefix's root.
  url.pathname = segments.length > 0 ? `/${segments.join('/')}/` : '/';
  url.search = '';
  const urgent = notice.kind === 'approval-expired' ? 5 : notice.kind === 'approval-requested' || notice.kind === 'error' ? Math.max(priority, 4) : priority;
  return {
    serverUrl: url.toString(),
    body: {
      topic,
      title: `Responder: ${notice.subject}`.slice(0, 250),
      message: notice.detail.slice(0, 3500),
      priority: urgent,
      tags: [notice.kind],
      ...(notice.link ? { click: notice.link } : {}),
    },
  };
}

function outcomeOf(status: number, text: string): DeliveryOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', result: { status } };
  const error = `HTTP ${status}: ${text.slice(0, 300)}`;
  // Throttled or down: later. Any other 4xx says the message or the credentials are wrong: never.
  if (status === 408 || status === 429 || status >= 500) return { kind: 'retry', error };
  return { kind: 'refused', error };
}

async function post(url: string, body: JsonObject, headers: Record<string, string> = {}): Promise<DeliveryOutcome> {
  try {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(TIMEOUT_MS) });
    return outcomeOf(response.status, await response.text().catch(() => ''));
  } catch (error) {
    return { kind: 'retry', error: (error as Error).message };
  }
}

/** Delivers a queued webhook message: the outbox holds the finished body. */
export function deliverWebhook(url: string) {
  return (message: OutboxMessage) => post(url, message.payload);
}

export function deliverNtfy(topicUrl: string, token: string | undefined) {
  const { serverUrl } = ntfyBody({ kind: 'result', incidentId: '', subject: '', detail: '', state: null, link: null }, topicUrl, 3);
  return (message: OutboxMessage) => post(serverUrl, message.payload, token ? { authorization: `Bearer ${token}` } : {});
}
