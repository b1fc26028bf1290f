import { describe, expect, it } from 'vitest';
import { lineShape, splitThreshold, thresholdHistory } from './context-pack.js';

describe('splitThreshold', () => {
  it('summarises the value side of a threshold rule', () => {
    expect(splitThreshold('rate(http_errors_total[5m]) > 0.05')).toEqual({ expression: 'rate(http_errors_total[5m])', threshold: '> 0.05' });
    expect(splitThreshold('node_filesystem_avail_ratio{mountpoint="/"} < 5e-2')).toEqual({ expression: 'node_filesystem_avail_ratio{mountpoint="/"}', threshold: '< 5e-2' });
    expect(splitThreshold('up == bool 0')).toEqual({ expression: 'up', threshold: '== 0' });
  });

  it('leaves an expression without a trailing numeric comparison alone', () => {
    expect(splitThreshold('absent(up{job="api"})')).toEqual({ expression: 'absent(up{job="api"})', threshold: null });
    expect(splitThreshold('a > b')).toEqual({ expression: 'a > b', threshold: null });
  });
});

describe('lineShape', () => {
  it('folds lines that differ in numbers, ids and times, but keeps client addresses apart', () => {
    expect(lineShape('2024-05-01T10:00:00Z job 4f2a9c01d3 failed after 12 ms')).toBe(lineShape('2024-05-01T10:00:07Z job 9c0e77aa12 failed after 310 ms'));
    expect(lineShape('203.0.113.66 - - "POST /login HTTP/1.1" 401 512')).toBe('203.0.113.66 - - "POST /login HTTP/<n>.<n>" <n> <n>');
    expect(lineShape('203.0.113.66 GET /')).not.toBe(lineShape('198.51.100.7 GET /'));
  });

  it('cannot be fooled by a planted marker into restoring the wrong text', () => {
    expect(lineShape('\uE0000\uE000 10.0.0.1 and 10.0.0.2')).toBe('<n> 10.0.0.1 and 10.0.0.2');
  });
});

describe('thresholdHistory', () => {
  const series = (values: number[]) => ({ metric: {}, values: values.map((v, i) => [i * 60, String(v)] as [number, string]) });

  it('counts how often the condition held and how often the value crossed it: a flapping alert shows', () => {
    expect(thresholdHistory(series([1, 9, 1, 9, 1, 9, 1, 9]), '> 5')).toBe('; condition met 50% of the time, crossed 7×');
    expect(thresholdHistory(series([1, 2, 3, 4, 6, 7]), '> 5')).toBe('; condition met 33% of the time, crossed 1×');
  });

  it('says nothing without a threshold or data', () => {
    expect(thresholdHistory(series([1, 9]), null)).toBe('');
    expect(thresholdHistory(series([9]), '> 5')).toBe('');
  });
});
