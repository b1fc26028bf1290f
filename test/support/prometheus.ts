import { startPrometheus as startEvalPrometheus, type PrometheusBinaries, type PrometheusOptions, type RunningServer } from '../../src/eval/prometheus-server.js';

export type { RunningServer };

/** The binaries the tests run: the Debian package's, unless PROMETHEUS_BIN / PROMTOOL_BIN point elsewhere. */
export const TEST_PROMETHEUS_BINARIES: PrometheusBinaries = {
  prometheusBinary: process.env.PROMETHEUS_BIN,
  promtoolBinary: process.env.PROMTOOL_BIN,
};

/** The same binaries for a `responder eval` child process, as config overrides (empty when none are set). */
export function testPrometheusEnv(): Record<string, string> {
  const { prometheusBinary, promtoolBinary } = TEST_PROMETHEUS_BINARIES;
  return {
    ...(prometheusBinary ? { RESPONDER_EVAL__PROMETHEUS_BINARY: prometheusBinary } : {}),
    ...(promtoolBinary ? { RESPONDER_EVAL__PROMTOOL_BINARY: promtoolBinary } : {}),
  };
}

/** A real Prometheus for a test, as `responder eval` starts one, with the test binaries. */
export function startPrometheus(options: PrometheusOptions): Promise<RunningServer> {
  return startEvalPrometheus({ ...TEST_PROMETHEUS_BINARIES, ...options });
}
