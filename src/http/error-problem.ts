import type { Logger } from 'pino';
import { ResponderError } from '../domain/errors.js';
import { statusForError } from './error-status.js';
import type { Problem } from './problem.js';

/** What a request answers when an error escapes its handler, logged once here. */
export function problemForError(error: unknown, log: Logger): Problem {
  if (error instanceof ResponderError) {
    const status = statusForError(error);
    log.error({ err: error, code: error.code, status }, 'request failed');
    return { status, code: error.code, title: status === 503 || status === 502 ? 'A dependency is unavailable; retry later' : 'Request could not be completed', detail: error.message };
  }
  log.error({ err: error }, 'unexpected error');
  // A webhook delivery commits whole or not at all, so for a sender a retry is always safe.
  return { status: 500, code: 'internal', title: 'Internal error', detail: 'see the server log; retrying is safe' };
}
