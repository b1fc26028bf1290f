import { describe, expect, it } from 'vitest';
import { splitThreshold } from './context-pack.js';

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
