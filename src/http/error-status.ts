import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { BackendError, DatabaseError, InvalidArgumentError, PolicyError, type ResponderError } from '../domain/errors.js';

/**
 * The status a request answers when a ResponderError escapes a handler. A dependency that is down
 * (database, policy, a backend) is 503/502 and worth retrying; a broken installation (config,
 * catalog, a missing executor) is 500.
 */
export function statusForError(error: ResponderError): ContentfulStatusCode {
  if (error instanceof InvalidArgumentError) return 400;
  if (error instanceof BackendError) return 502;
  if (error instanceof DatabaseError || error instanceof PolicyError) return 503;
  return 500;
}
