import { createServer, type Server } from 'node:http';
import { freePort } from './free-port.js';

export type Labels = Record<string, string>;

export interface ControlledExporter {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** host:port, the form a Prometheus static_config target takes. */
  target: string;
  set(name: string, value: number, labels?: Labels): void;
  stop(): Promise<void>;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

// Sorted so that the same label set given in another key order is the same series.
function seriesKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function render(gauges: Map<string, Map<string, { labels: Labels; value: number }>>): string {
  const lines: string[] = [];
  for (const [name, series] of gauges) {
    lines.push(`# TYPE ${name} gauge`);
    for (const { labels, value } of series.values()) {
      const entries = Object.entries(labels);
      const labelText =
        entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
      lines.push(`${name}${labelText} ${formatValue(value)}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** A scrape target whose gauge values the test decides, to make a real Prometheus rule fire or clear. */
export async function startControlledExporter(): Promise<ControlledExporter> {
  const gauges = new Map<string, Map<string, { labels: Labels; value: number }>>();

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(render(gauges));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });

  const port = await freePort();
  let stopping: Promise<void> | undefined;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    target: `127.0.0.1:${port}`,
    set(name, value, labels = {}) {
      if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name: ${name}`);
      for (const key of Object.keys(labels)) {
        if (!LABEL_NAME.test(key)) throw new Error(`invalid label name: ${key}`);
      }
      let series = gauges.get(name);
      if (!series) {
        series = new Map();
        gauges.set(name, series);
      }
      series.set(seriesKey(labels), { labels: { ...labels }, value });
    },
    stop() {
      stopping ??= new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      });
      return stopping;
    },
  };
}
