import { describe, expect, it } from 'vitest';
import { expressionFromAnnotations, expressionFromPrometheusURL } from './alert-expression.js';

describe('expressionFromPrometheusURL', () => {
  it.each([
    ['http://prom:9090/graph?g0.expr=up%7Bjob%3D%22x%22%7D+%3D%3D+0&g0.tab=1', 'up{job="x"} == 0'],
    ['https://prometheus.example.com/prom/graph?g0.expr=rate%28http_requests_total%5B5m%5D%29+%3E+10&g0.tab=1', 'rate(http_requests_total[5m]) > 10'],
    ['/graph?g0.expr=up+%3D%3D+0&g0.tab=1', 'up == 0'],
    ['http://prom:9090/graph?g0.tab=1&g0.expr=a%0Aor%0Ab', 'a\nor\nb'],
  ])('reads %s', (url, expression) => {
    expect(expressionFromPrometheusURL(url)).toBe(expression);
  });

  it.each([
    ['no generator URL', null],
    ['an empty one', ''],
    ['a Grafana rule link', 'https://grafana.example.com/alerting/grafana/fe3k9x2m7qdxcb/view?orgId=1'],
    ['an empty expression', 'http://prom:9090/graph?g0.expr=&g0.tab=1'],
    ['a URL that does not parse', 'http://[::1'],
  ])('finds nothing in %s', (_case, url) => {
    expect(expressionFromPrometheusURL(url)).toBeNull();
  });
});

describe('expressionFromAnnotations', () => {
  it('reads expr', () => {
    expect(expressionFromAnnotations({ summary: 's', expr: 'up == 0' })).toBe('up == 0');
  });

  it('reads responder_expr', () => {
    expect(expressionFromAnnotations({ responder_expr: ' node_load1 > 4 ' })).toBe('node_load1 > 4');
  });

  it('prefers responder_expr, which is written for Responder, over expr', () => {
    expect(expressionFromAnnotations({ expr: 'a', responder_expr: 'b' })).toBe('b');
  });

  it('skips blank annotations', () => {
    expect(expressionFromAnnotations({ responder_expr: '  ', expr: 'up == 0' })).toBe('up == 0');
    expect(expressionFromAnnotations({ expr: '' })).toBeNull();
  });

  it('finds nothing without either annotation', () => {
    expect(expressionFromAnnotations({ summary: 'up == 0' })).toBeNull();
  });
});
