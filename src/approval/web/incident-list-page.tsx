import type { IncidentSummary } from '../../domain/incident-record.js';
import { IncidentStateSchema } from '../../domain/incident.js';
import { Layout, StateBadge, type PageContext } from './layout.js';

export interface ListFilter {
  state?: string;
  severity?: string;
  route?: string;
  q?: string;
}

/** The rows alone: the live update fetches and swaps just this part. */
export function IncidentRows(props: { incidents: IncidentSummary[] }) {
  if (props.incidents.length === 0) return <p id="incident-rows">No incidents match.</p>;
  return (
    <ul id="incident-rows" class="incidents">
      {props.incidents.map((i) => (
        <li>
          <a href={`/incidents/${i.id}`}>
            <span class="name">{i.alertName}</span>
            <span class="meta">
              {i.severity} · {i.instance ?? 'no instance'} · {i.route ?? 'no route'} · <time datetime={i.createdAt}>{i.createdAt.replace('T', ' ').slice(0, 19)}</time>
            </span>
          </a>
          <StateBadge state={i.state} />
        </li>
      ))}
    </ul>
  );
}

export function IncidentListPage(props: { page: PageContext; incidents: IncidentSummary[]; counts: Record<string, number>; filter: ListFilter }) {
  const { filter } = props;
  return (
    <Layout title="Incidents" page={props.page}>
      <h1>Incidents</h1>
      <nav aria-label="Counts by state" class="counts">
        <a href="/" aria-current={!filter.state ? 'page' : undefined}>
          all <b>{Object.values(props.counts).reduce((a, b) => a + b, 0)}</b>
        </a>
        {Object.entries(props.counts)
          .sort()
          .map(([state, count]) => (
            <a href={`/?state=${encodeURIComponent(state)}`} aria-current={filter.state === state ? 'page' : undefined}>
              {state.replaceAll('_', ' ')} <b>{count}</b>
            </a>
          ))}
      </nav>
      <form method="get" action="/" class="filters" role="search">
        <label>
          State
          <select name="state">
            <option value="">any</option>
            {IncidentStateSchema.options.map((s) => (
              <option value={s} selected={filter.state === s}>
                {s.replaceAll('_', ' ')}
              </option>
            ))}
          </select>
        </label>
        <label>
          Severity <input name="severity" value={filter.severity ?? ''} placeholder="critical" />
        </label>
        <label>
          Route <input name="route" value={filter.route ?? ''} />
        </label>
        <label>
          Text <input name="q" type="search" value={filter.q ?? ''} placeholder="alert, instance" />
        </label>
        <button type="submit">Filter</button>
      </form>
      <section aria-live="polite" data-live-list="">
        <IncidentRows incidents={props.incidents} />
      </section>
    </Layout>
  );
}
