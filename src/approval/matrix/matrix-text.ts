/** A Matrix m.room.message content: plain body for every client, HTML for those that render it. */
export interface MatrixMessage {
  msgtype: 'm.text' | 'm.notice';
  body: string;
  format?: 'org.matrix.custom.html';
  formatted_body?: string;
  /** Intentional mentions: clients that know them ping exactly these and ignore "@room" or names in the text. */
  'm.mentions': { user_ids?: string[] };
  'm.relates_to'?: Record<string, unknown>;
  'm.new_content'?: Omit<MatrixMessage, 'm.relates_to' | 'm.new_content'>;
}

const WORD_JOINER = '\u2060';

/**
 * Text from an alert, a log or a model, shown in a chat room: it must not ping anyone. An invisible
 * word joiner after every "@" breaks "@room" and user ids for clients that still scan the body for
 * them; the message's empty m.mentions tells newer clients the same.
 */
export function defuse(text: string): string {
  return text.replaceAll('@', `@${WORD_JOINER}`);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** For the HTML body: escaped and defused, so a label holding `<a href=…>` or `@room` is shown as text. */
export function escapeHtml(text: string): string {
  return defuse(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** One line of untrusted text, cut to a length a phone screen can show. */
export function clip(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/** A message whose plain and HTML bodies are built from the same parts. */
export function message(plain: string, html: string, options: { notice?: boolean; mentions?: string[] } = {}): MatrixMessage {
  return {
    msgtype: options.notice ? 'm.notice' : 'm.text',
    body: plain,
    format: 'org.matrix.custom.html',
    formatted_body: html,
    'm.mentions': options.mentions && options.mentions.length > 0 ? { user_ids: options.mentions } : {},
  };
}

/** The same message as a reply in a card's thread (clients without threads show it as a reply). */
export function inThread(content: MatrixMessage, rootEventId: string): MatrixMessage {
  return { ...content, 'm.relates_to': { rel_type: 'm.thread', event_id: rootEventId, is_falling_back: true, 'm.in_reply_to': { event_id: rootEventId } } };
}

/** An edit of an earlier message: clients show the new content in its place. */
export function asEdit(content: MatrixMessage, originalEventId: string): MatrixMessage {
  const { 'm.relates_to': _relation, 'm.new_content': _nested, ...replacement } = content;
  return {
    ...replacement,
    body: `* ${replacement.body}`,
    ...(replacement.formatted_body ? { formatted_body: `* ${replacement.formatted_body}` } : {}),
    'm.new_content': replacement,
    'm.relates_to': { rel_type: 'm.replace', event_id: originalEventId },
  };
}
