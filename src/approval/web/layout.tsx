import type { Child } from 'hono/jsx';
import type { Identity } from '../../domain/identity.js';

export interface PageContext {
  /** Who is looking; null when reads are anonymous. */
  identity: Identity | null;
  /** The form token for this identity's posts. */
  csrf: string | null;
}

/** The shell of every page: no CDN, one stylesheet and one small script, both served by Responder. */
export function Layout(props: { title: string; page: PageContext; children: Child; script?: boolean }) {
  const { identity, csrf } = props.page;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{props.title} · Responder</title>
        <link rel="stylesheet" href="/assets/app.css" />
        {props.script === false ? null : <script src="/assets/app.js" defer></script>}
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/">
            Responder
          </a>
          {identity ? (
            <form method="post" action="/sign-out" class="who">
              <span>
                {identity.name} <span class="role">({identity.role})</span>
              </span>
              {csrf ? <input type="hidden" name="csrf" value={csrf} /> : null}
              {/* Only a sign-in session can be signed out of: a bearer header or a proxy's identity comes back with the next request. */}
              {identity.source === 'token' && csrf ? <button type="submit">Sign out</button> : null}
            </form>
          ) : null}
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}

/** A state as words and a shape, never colour alone. */
export function StateBadge(props: { state: string }) {
  const settled = ['resolved', 'diagnosed'].includes(props.state);
  const bad = ['failed', 'denied', 'rejected', 'expired', 'unverified'].includes(props.state);
  const symbol = settled ? '✓' : bad ? '✕' : props.state === 'awaiting_approval' ? '‖' : '…';
  return (
    <span class={`badge badge-${settled ? 'ok' : bad ? 'bad' : props.state === 'awaiting_approval' ? 'wait' : 'busy'}`}>
      <span aria-hidden="true">{symbol}</span> {props.state.replaceAll('_', ' ')}
    </span>
  );
}
