import { wellFormedText } from '../domain/well-formed-text.js';

/** jsonb refuses U+0000 and lone surrogates, and a log line or model answer may carry either: each is stored as U+FFFD. */
function wellFormed(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? wellFormedText(value) : value;
}

/** The text a jsonb parameter is bound as. */
export function toJsonb(value: unknown): string {
  return JSON.stringify(value, wellFormed);
}
