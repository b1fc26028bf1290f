import { describe, expect, it } from 'vitest';
import { compactLogStreams } from './compact-log-streams.js';
import type { LokiStream } from './loki-api.js';

const ns = (iso: string) => `${BigInt(Date.parse(iso)) * 1_000_000n}`;

const web: LokiStream = {
  stream: { app: 'web', host: 'web1' },
  values: [
    [ns('2024-05-01T10:00:09Z'), 'POST /login 401 from 203.0.113.66'],
    [ns('2024-05-01T10:00:08Z'), 'POST /login 401 from 203.0.113.66'],
    [ns('2024-05-01T10:00:07.250Z'), 'GET /health 200'],
    [ns('2024-05-01T10:00:05Z'), 'POST /login 401 from 203.0.113.66'],
  ],
};
const db: LokiStream = { stream: { app: 'db' }, values: [[ns('2024-05-01T10:00:06Z'), 'slow query: 2.3s\nSELECT 1']] };

describe('compactLogStreams', () => {
  it('shows each stream once and folds identical lines with a count and the span they cover', () => {
    expect(compactLogStreams([db, web], { maxLineChars: 200, direction: 'backward' })).toBe(
      [
        '5 lines in 2 streams, 3 distinct, newest first',
        '{app="web",host="web1"} 4 lines',
        '  3× 2024-05-01T10:00:09Z … 2024-05-01T10:00:05Z  POST /login 401 from 203.0.113.66',
        '  1× 2024-05-01T10:00:07.250Z  GET /health 200',
        '{app="db"} 1 line',
        '  1× 2024-05-01T10:00:06Z  slow query: 2.3s\\nSELECT 1',
      ].join('\n'),
    );
  });

  it('lists oldest first when asked forward, whatever order the entries came in', () => {
    const text = compactLogStreams([web, db], { maxLineChars: 200, direction: 'forward' });
    expect(text.split('\n').slice(1)).toEqual([
      '{app="web",host="web1"} 4 lines',
      '  3× 2024-05-01T10:00:05Z … 2024-05-01T10:00:09Z  POST /login 401 from 203.0.113.66',
      '  1× 2024-05-01T10:00:07.250Z  GET /health 200',
      '{app="db"} 1 line',
      '  1× 2024-05-01T10:00:06Z  slow query: 2.3s\\nSELECT 1',
    ]);
  });

  it('cuts long lines and marks the cut', () => {
    const long: LokiStream = { stream: { app: 'x' }, values: [[ns('2024-05-01T10:00:00Z'), 'a'.repeat(1000)]] };
    const line = compactLogStreams([long], { maxLineChars: 50, direction: 'backward' }).split('\n')[2]!;
    expect(line).toBe(`  1× 2024-05-01T10:00:00Z  ${'a'.repeat(50)}…`);
  });

  it('shrinks a repetitive result far below its raw size', () => {
    const values: [string, string][] = Array.from({ length: 100 }, (_, i) => [ns(new Date(Date.parse('2024-05-01T10:00:00Z') + i * 1000).toISOString()), 'connection refused to db:5432']);
    const streams: LokiStream[] = [{ stream: { app: 'web', host: 'web1', namespace: 'prod', pod: 'web-7d9f' }, values }];
    const raw = JSON.stringify({ status: 'success', data: { resultType: 'streams', result: streams } });
    const text = compactLogStreams(streams, { maxLineChars: 300, direction: 'backward' });
    expect(text).toContain('100× ');
    expect(Buffer.byteLength(text) * 20).toBeLessThan(Buffer.byteLength(raw));
  });

  it('says so when there is nothing', () => {
    expect(compactLogStreams([], { maxLineChars: 10, direction: 'backward' })).toBe('0 lines in 0 streams, 0 distinct, newest first');
  });
});
