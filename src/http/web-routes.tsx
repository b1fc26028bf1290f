import type { Context } from 'hono';
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { APP_CSS, APP_JS } from '../approval/web/assets.js';
import { modificationsFromForm } from '../approval/web/decision-form.js';
import { IncidentListPage, IncidentRows, type ListFilter } from '../approval/web/incident-list-page.js';
import { IncidentPage } from '../approval/web/incident-page.js';
import type { PageContext } from '../approval/web/layout.js';
import { SignInPage } from '../approval/web/sign-in-page.js';
import type { DecisionOutcome, DecisionSubmission } from '../approval/submit-decision.js';
import { hasRole, type Identity } from '../domain/identity.js';
import { IncidentStateSchema, type IncidentState } from '../domain/incident.js';
import type { IncidentRecord, IncidentSummary } from '../domain/incident-record.js';
import type { AuthFailureLimiter } from './auth-failure-limiter.js';
import type { AccessPolicy } from './authorize.js';
import type { ChangeFeed } from './change-feed.js';
import { peerAddress } from './identity.js';
import { readLimited } from './read-body.js';
import { SESSION_COOKIE, SIGN_IN_COOKIE, type WebSessions } from './web-sessions.js';

export interface WebRouteDeps {
  incidents: {
    list(filter: { state?: IncidentState; severity?: string; route?: string; text?: string; limit?: number }): Promise<IncidentSummary[]>;
    getRecord(id: string): Promise<IncidentRecord | null>;
    countByState(): Promise<Record<string, number>>;
  };
  /** The JSON Schema of a catalog action's inputs, for the modify form. */
  inputsSchema(actionId: string): Record<string, unknown> | null;
  access: AccessPolicy;
  sessions: WebSessions;
  changes: ChangeFeed;
  decide(submission: DecisionSubmission): Promise<DecisionOutcome>;
  /** Asks the incident's waiting or running remediation to stop; null when it has none (see incident-routes.ts). */
  cancelRun?(incidentId: string, actor: string, reason: string): Promise<{ runId: string; state: string } | null>;
  /** Counts a wrong token in the sign-in form like a refused bearer token (see app.ts). */
  authFailures?: AuthFailureLimiter;
  /** Cookies get Secure when the public URL is https. */
  secureCookies: boolean;
  bodyLimitBytes: number;
}

type Viewer = { identity: Identity | null; csrf: string | null; ambient: boolean };

/** Who is looking: a bearer token or a trusted proxy's headers (as for the API), else the session cookie. */
async function viewerOf(c: Context, deps: WebRouteDeps): Promise<Viewer | 'bad-credentials' | null> {
  if (c.req.header('authorization') !== undefined) {
    const identity = deps.access.identities.resolve(c);
    return identity ? { identity, csrf: null, ambient: false } : 'bad-credentials';
  }
  const proxied = deps.access.identities.resolve(c);
  if (proxied) return { identity: proxied, csrf: deps.sessions.csrfFor(proxied), ambient: true };
  const session = await deps.sessions.resolve(getCookie(c, SESSION_COOKIE));
  if (session) return { identity: session.identity, csrf: session.csrf, ambient: true };
  return deps.access.anonymousRead ? { identity: null, csrf: null, ambient: false } : null;
}

const textPage = (c: Context, status: 401 | 403 | 404 | 413, text: string) => c.text(text, status);

/** A local path to return to after signing in; anything else (another host, //evil) goes home. */
function localPath(next: string | undefined): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.includes('\\') ? next : '/';
}

/** Same-origin check for posts: a browser always sends Origin on a cross-site form post. */
function crossOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  if (!origin) return false;
  try {
    return new URL(origin).host !== c.req.header('host');
  } catch {
    return true;
  }
}

async function readForm(c: Context, limit: number): Promise<Record<string, string> | null> {
  const body = await readLimited(c.req.raw, limit);
  if (!body.ok) return null;
  return Object.fromEntries(new URLSearchParams(body.bytes.toString('utf8')));
}

function filterOf(c: Context): ListFilter & { stateValid: boolean } {
  const state = c.req.query('state') || undefined;
  const clean = (value: string | undefined) => (value && value.trim() ? value.trim().slice(0, 200) : undefined);
  return { state, severity: clean(c.req.query('severity')), route: clean(c.req.query('route')), q: clean(c.req.query('q')), stateValid: !state || IncidentStateSchema.safeParse(state).success };
}

export function webRoutes(deps: WebRouteDeps): Hono {
  const app = new Hono();

  /** A form post from someone signed in, from this origin, within the size limit, carrying its form token. */
  async function signedFormPost(c: Context): Promise<Response | { viewer: Viewer & { identity: Identity }; form: Record<string, string> }> {
    const viewer = await viewerOf(c, deps);
    if (viewer === 'bad-credentials' || viewer === null || !viewer.identity) return textPage(c, 401, 'sign in first');
    if (crossOrigin(c)) return textPage(c, 403, 'cross-origin form post refused');
    const form = await readForm(c, deps.bodyLimitBytes);
    if (!form) return textPage(c, 413, 'form too large');
    // Cookies and proxy headers come with every request a browser makes, so their posts must carry the form token.
    if (viewer.ambient && !deps.sessions.sameToken(form.csrf, viewer.csrf ?? undefined)) return textPage(c, 403, 'the form token is missing or stale; reload the page and try again');
    return { viewer: { ...viewer, identity: viewer.identity }, form };
  }
  const html = (c: Context, body: unknown, status: 200 | 400 | 403 | 404 | 409 | 413 | 429 = 200) => {
    c.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'");
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'same-origin');
    return c.html(`<!doctype html>${String(body)}`, status);
  };
  const cookieOptions = { httpOnly: true, sameSite: 'Strict' as const, secure: deps.secureCookies, path: '/' };

  /** Resolves the viewer of a page, or answers: 401 for a bad token, a sign-in redirect for a browser with none. */
  async function pageViewer(c: Context): Promise<Viewer | Response> {
    const viewer = await viewerOf(c, deps);
    if (viewer === 'bad-credentials') return textPage(c, 401, 'unknown token');
    if (!viewer) return c.redirect(`/sign-in?next=${encodeURIComponent(c.req.path + (new URL(c.req.url).search || ''))}`, 303);
    return viewer;
  }
  const pageOf = (viewer: Viewer): PageContext => ({ identity: viewer.identity, csrf: viewer.csrf });

  app.get('/assets/app.css', (c) => c.body(APP_CSS, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=300' }));
  app.get('/assets/app.js', (c) => c.body(APP_JS, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=300' }));

  app.get('/', async (c) => {
    const viewer = await pageViewer(c);
    if (viewer instanceof Response) return viewer;
    const filter = filterOf(c);
    const incidents = filter.stateValid
      ? await deps.incidents.list({ state: filter.state as IncidentState | undefined, severity: filter.severity, route: filter.route, text: filter.q, limit: 200 })
      : [];
    if (c.req.query('fragment') === 'rows') return html(c, <IncidentRows incidents={incidents} />);
    return html(c, <IncidentListPage page={pageOf(viewer)} incidents={incidents} counts={await deps.incidents.countByState()} filter={filter} />);
  });

  async function renderIncident(c: Context, viewer: Viewer, id: string, extra: { notice?: string; error?: { detail: string; errors?: { path: string; message: string }[] }; status?: 200 | 400 | 403 | 404 | 409 | 413 | 429 } = {}) {
    const record = z.string().uuid().safeParse(id).success ? await deps.incidents.getRecord(id) : null;
    if (!record) return textPage(c, 404, 'no such incident');
    const actionId = record.approvalRequests.find((r) => r.state === 'open')?.actionId ?? record.proposal?.action?.id;
    return html(c, <IncidentPage page={pageOf(viewer)} record={record} inputsSchema={actionId ? deps.inputsSchema(actionId) : null} notice={extra.notice} error={extra.error} />, extra.status ?? 200);
  }

  app.get('/incidents/:id', async (c) => {
    const viewer = await pageViewer(c);
    if (viewer instanceof Response) return viewer;
    const notice = c.req.query('decided') === '1' ? 'Your decision was recorded.' : c.req.query('cancelled') === '1' ? 'Cancel requested: the run is being stopped.' : undefined;
    return renderIncident(c, viewer, c.req.param('id'), { notice });
  });

  app.post('/incidents/:id/decide', async (c) => {
    const post = await signedFormPost(c);
    if (post instanceof Response) return post;
    const { viewer, form } = post;
    const id = c.req.param('id');
    if (!hasRole(viewer.identity.role, 'approver')) return renderIncident(c, viewer, id, { status: 403, error: { detail: `${viewer.identity.name} has the ${viewer.identity.role} role; deciding needs approver` } });
    const record = z.string().uuid().safeParse(id).success ? await deps.incidents.getRecord(id) : null;
    if (!record) return textPage(c, 404, 'no such incident');
    const request = record.approvalRequests.find((r) => r.id === form.requestId);
    let modifications: Record<string, unknown> | undefined;
    if (form.decision === 'modify') {
      const schema = request ? deps.inputsSchema(request.actionId) : null;
      modifications = schema && request ? modificationsFromForm(form, schema, request.inputs) : {};
    }
    const input = { requestId: form.requestId || undefined, approved: form.decision !== 'reject', reason: form.reason ?? '', ...(modifications && Object.keys(modifications).length ? { modifications } : {}) };
    const outcome = await deps.decide({ incidentId: id, identity: viewer.identity, channel: 'web', input });
    if (outcome.kind === 'recorded') return c.redirect(`/incidents/${id}?decided=1`, 303);
    const status = ({ forbidden: 403, 'not-found': 404, 'not-awaiting-approval': 409, 'stale-request': 409, 'already-decided': 409, 'invalid-request': 400, 'invalid-modifications': 400, 'rate-limited': 429 } as const)[outcome.code];
    return renderIncident(c, viewer, id, { status, error: { detail: outcome.detail, errors: outcome.errors } });
  });

  app.post('/incidents/:id/cancel', async (c) => {
    const post = await signedFormPost(c);
    if (post instanceof Response) return post;
    const { viewer, form } = post;
    const id = c.req.param('id');
    if (!hasRole(viewer.identity.role, 'admin')) return renderIncident(c, viewer, id, { status: 403, error: { detail: `${viewer.identity.name} has the ${viewer.identity.role} role; cancelling a run needs admin` } });
    if (!z.string().uuid().safeParse(id).success || !deps.cancelRun) return textPage(c, 404, 'no such incident');
    const reason = (form.reason ?? '').trim().slice(0, 1000);
    if (!reason) return renderIncident(c, viewer, id, { status: 400, error: { detail: 'say why the run is stopped; it goes into the audit trail' } });
    const requested = await deps.cancelRun(id, viewer.identity.name, reason);
    if (!requested) return renderIncident(c, viewer, id, { status: 409, error: { detail: 'nothing is waiting or running for this incident' } });
    return c.redirect(`/incidents/${id}?cancelled=1`, 303);
  });

  app.get('/sign-in', (c) => {
    const csrf = deps.sessions.signInCsrf();
    setCookie(c, SIGN_IN_COOKIE, csrf, { ...cookieOptions, maxAge: 600 });
    return html(c, <SignInPage next={localPath(c.req.query('next'))} csrf={csrf} />);
  });

  app.post('/sign-in', async (c) => {
    if (crossOrigin(c)) return textPage(c, 403, 'cross-origin form post refused');
    const form = await readForm(c, 8192);
    if (!form) return textPage(c, 413, 'form too large');
    const next = localPath(form.next);
    if (!deps.sessions.sameToken(form.csrf, getCookie(c, SIGN_IN_COOKIE))) return textPage(c, 403, 'the sign-in form expired; reload it and try again');
    const session = form.token ? await deps.sessions.signIn(form.token) : null;
    if (!session) {
      if (form.token) deps.authFailures?.failed(peerAddress(c) ?? '(no socket)');
      const csrf = deps.sessions.signInCsrf();
      setCookie(c, SIGN_IN_COOKIE, csrf, { ...cookieOptions, maxAge: 600 });
      return html(c, <SignInPage next={next} csrf={csrf} error="That token is not configured in auth.tokens." />, 403);
    }
    deleteCookie(c, SIGN_IN_COOKIE, { path: '/' });
    setCookie(c, SESSION_COOKIE, session.id, { ...cookieOptions, maxAge: deps.sessions.ttlSeconds });
    return c.redirect(next, 303);
  });

  app.post('/sign-out', async (c) => {
    const form = (await readForm(c, 4096)) ?? {};
    const session = await deps.sessions.resolve(getCookie(c, SESSION_COOKIE));
    if (session && deps.sessions.sameToken(form.csrf, session.csrf)) await deps.sessions.signOut(getCookie(c, SESSION_COOKIE));
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/sign-in', 303);
  });

  app.get('/events', async (c) => {
    const viewer = await viewerOf(c, deps);
    if (viewer === 'bad-credentials' || viewer === null) return textPage(c, 401, 'sign in first');
    return streamSSE(c, async (stream) => {
      let closed = false;
      const unsubscribe = deps.changes.subscribe((change) => {
        void stream.writeSSE({ event: 'incident', data: JSON.stringify(change) }).catch(() => {});
      });
      stream.onAbort(() => {
        closed = true;
        unsubscribe();
      });
      // Comments keep proxies from closing a quiet stream.
      while (!closed) {
        await stream.sleep(15_000);
        if (!closed) await stream.write(': keep-alive\n\n').catch(() => (closed = true));
      }
      unsubscribe();
    });
  });

  return app;
}
