/** The idle wait of a background loop, which a kick or a stop ends at once instead of after the timeout. */
export interface WakeablePause {
  /** Resolves after `ms`, or as soon as wake() is called, whichever comes first. */
  sleep(ms: number): Promise<void>;
  /**
   * Ends every sleep under way. A wake while nothing sleeps is not remembered: a loop that must not
   * miss a kick during its work keeps its own flag and skips the next sleep.
   */
  wake(): void;
}

export function createWakeablePause(): WakeablePause {
  const sleeping = new Set<() => void>();
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        // The timer is cleared on wake, so a stopped loop leaves nothing that keeps the process alive.
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          sleeping.delete(done);
          resolve();
        }
        sleeping.add(done);
      }),
    wake() {
      for (const done of [...sleeping]) done();
    },
  };
}
