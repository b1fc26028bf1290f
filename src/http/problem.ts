import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface Problem {
  status: ContentfulStatusCode;
  /** Stable machine-readable code; also the last segment of `type`. */
  code: string;
  title: string;
  detail?: string;
  errors?: { path: string; message: string }[];
}

/** RFC 9457 problem details as JSON text; `instance` is the request's path. */
export function problemJson(p: Problem, instance: string): string {
  return JSON.stringify({
    type: `https://responder.dev/problems/${p.code}`,
    title: p.title,
    status: p.status,
    code: p.code,
    ...(p.detail ? { detail: p.detail } : {}),
    ...(p.errors ? { errors: p.errors } : {}),
    instance,
  });
}

/** RFC 9457 problem details: what a client or an operator reads when a request is refused. */
export function problem(c: Context, p: Problem): Response {
  return c.body(problemJson(p, c.req.path), p.status, { 'content-type': 'application/problem+json' });
}
