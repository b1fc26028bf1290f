import type { JsonValue } from '../../domain/json-value.js';

interface Point {
  label: string;
  value: number;
}

/** Series values from an evidence item's data, when it carries any (the rule expression re-evaluated). */
export function seriesPoints(data: JsonValue | undefined): Point[] {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return [];
  const series = data.series;
  if (!Array.isArray(series)) return [];
  const points: Point[] = [];
  for (const item of series) {
    if (!item || typeof item !== 'object' || Array.isArray(item)) continue;
    const value = Number(item.value);
    if (!Number.isFinite(value)) continue;
    const labels = item.labels && typeof item.labels === 'object' && !Array.isArray(item.labels) ? item.labels : {};
    const label = Object.entries(labels)
      .filter(([name]) => name !== '__name__')
      .map(([name, v]) => `${name}=${String(v)}`)
      .join(', ');
    points.push({ label: label || '(no labels)', value });
  }
  return points.slice(0, 20);
}

/** A small server-drawn bar chart: no script, no library, readable as text too. */
export function SeriesChart(props: { points: Point[]; caption: string }) {
  const { points } = props;
  if (points.length === 0) return null;
  const max = Math.max(...points.map((p) => Math.abs(p.value)), 1e-9);
  const rowHeight = 22;
  const width = 320;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${points.length * rowHeight}`} width="100%" role="img" aria-label={props.caption}>
        <title>{props.caption}</title>
        {points.map((p, i) => (
          <g>
            <rect x="0" y={i * rowHeight + 3} width={Math.max(1, (Math.abs(p.value) / max) * (width - 90))} height={rowHeight - 8} class="bar" />
            <text x={width - 4} y={i * rowHeight + rowHeight / 2 + 4} text-anchor="end" class="value">
              {Number.isInteger(p.value) ? String(p.value) : p.value.toPrecision(4)}
            </text>
          </g>
        ))}
      </svg>
      <figcaption>
        {props.caption}
        <ol>
          {points.map((p) => (
            <li>
              {p.label}: {String(p.value)}
            </li>
          ))}
        </ol>
      </figcaption>
    </figure>
  );
}
