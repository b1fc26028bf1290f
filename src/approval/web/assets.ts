/** Served from /assets; no CDN, nothing fetched at runtime, so it works air-gapped. */
export const APP_CSS = `
:root { --bg: #fff; --fg: #1b1f23; --muted: #5b6470; --line: #d6dae0; --card: #f6f8fa; --accent: #0b57d0; --ok: #1a7f37; --bad: #b42318; --wait: #9a6700; --focus: #0b57d0; }
@media (prefers-color-scheme: dark) { :root { --bg: #0f1115; --fg: #e6e8eb; --muted: #9aa4b2; --line: #30363d; --card: #161b22; --accent: #8ab4f8; --ok: #56d364; --bad: #ff7b72; --wait: #e3b341; --focus: #8ab4f8; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
main { max-width: 62rem; margin: 0 auto; padding: 1rem; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: 1rem; background: var(--bg); padding: .5rem; }
.top { display: flex; justify-content: space-between; align-items: center; gap: 1rem; padding: .5rem 1rem; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
.brand { font-weight: 700; text-decoration: none; }
.who { display: flex; gap: .5rem; align-items: center; margin: 0; } .role { color: var(--muted); }
h1 { font-size: 1.5rem; margin: .5rem 0; } h2 { font-size: 1.15rem; margin-top: 1.5rem; border-bottom: 1px solid var(--line); } h3 { font-size: 1rem; }
section { margin-bottom: 1rem; }
.muted { color: var(--muted); }
.badge { display: inline-block; border: 1px solid currentColor; border-radius: 1rem; padding: 0 .6rem; font-size: .85rem; white-space: nowrap; }
.badge-ok { color: var(--ok); } .badge-bad { color: var(--bad); } .badge-wait { color: var(--wait); font-weight: 600; } .badge-busy { color: var(--muted); }
.counts { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0; } .counts a { padding: .2rem .5rem; border: 1px solid var(--line); border-radius: .4rem; text-decoration: none; }
.counts a[aria-current] { border-color: var(--accent); font-weight: 600; }
.filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin: 1rem 0; } .filters label { display: flex; flex-direction: column; font-size: .85rem; }
input, select, textarea, button { font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--line); border-radius: .4rem; padding: .35rem .5rem; max-width: 100%; }
button { cursor: pointer; background: var(--card); } button.approve { border-color: var(--ok); color: var(--ok); font-weight: 600; } button.reject { border-color: var(--bad); color: var(--bad); }
.incidents { list-style: none; padding: 0; } .incidents li { display: flex; justify-content: space-between; align-items: center; gap: .5rem; padding: .6rem 0; border-bottom: 1px solid var(--line); }
.incidents a { display: flex; flex-direction: column; text-decoration: none; min-width: 0; } .incidents .name { font-weight: 600; } .incidents .meta { color: var(--muted); font-size: .85rem; overflow-wrap: anywhere; }
.pairs { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; } .pairs dt { color: var(--muted); } .pairs dd { margin: 0; overflow-wrap: anywhere; }
pre { background: var(--card); border: 1px solid var(--line); border-radius: .4rem; padding: .5rem; overflow-x: auto; font-size: .8rem; max-height: 24rem; }
.diff .add { background: rgba(26,127,55,.18); } .diff .del { background: rgba(180,35,24,.18); }
.decide { border: 2px solid var(--wait); border-radius: .5rem; padding: 1rem; background: var(--card); } .field { display: flex; flex-direction: column; margin: .5rem 0; } .field small { color: var(--muted); }
.buttons { display: flex; gap: .5rem; flex-wrap: wrap; margin: .5rem 0; }
.error { border-left: 4px solid var(--bad); padding: .25rem .75rem; } .notice { border-left: 4px solid var(--ok); padding: .25rem .75rem; }
.chart svg .bar { fill: var(--accent); } .chart svg .value { fill: var(--fg); font-size: 11px; } .chart figcaption { font-size: .85rem; color: var(--muted); } .chart ol { margin: .25rem 0; }
.timeline { font-size: .9rem; } code { overflow-wrap: anywhere; }
.sign-in { max-width: 24rem; }
`;

/**
 * The only script: live updates (server-sent events) and the deadline countdown. Every page works
 * without it; forms post as plain HTML.
 */
export const APP_JS = `
(() => {
  const list = document.querySelector('[data-live-list]');
  const incident = document.querySelector('[data-live-incident]');
  if ((list || incident) && 'EventSource' in window) {
    const events = new EventSource('/events');
    events.addEventListener('incident', async (event) => {
      const change = JSON.parse(event.data);
      if (list) {
        const url = new URL(location.href);
        url.searchParams.set('fragment', 'rows');
        const response = await fetch(url, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
        if (response.ok) { const rows = document.getElementById('incident-rows'); if (rows) rows.outerHTML = await response.text(); }
      } else if (incident && change.id === incident.dataset.liveIncident && change.updatedAt !== incident.dataset.updated) {
        const form = document.querySelector('form.decide');
        const typing = form && [...form.querySelectorAll('textarea, input')].some((f) => f.type !== 'hidden' && f.value !== f.defaultValue);
        if (!typing) location.reload();
      }
    });
  }
  const tick = () => {
    for (const el of document.querySelectorAll('[data-deadline]')) {
      const left = Date.parse(el.dataset.deadline) - Date.now();
      if (left <= 0) { el.textContent = 'passed'; continue; }
      const m = Math.floor(left / 60000), s = Math.floor((left % 60000) / 1000);
      el.textContent = 'in ' + m + ' min ' + String(s).padStart(2, '0') + ' s';
    }
  };
  tick(); setInterval(tick, 1000);
})();
`;
