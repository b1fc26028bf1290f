/**
 * The unexpected is thrown as a ResponderError with a stable string code;
 * the HTTP layer maps codes to application/problem+json statuses.
 */
export class ResponderError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ResponderError';
  }
}

export class ConfigError extends ResponderError {
  constructor(readonly problems: readonly { path: string; message: string }[]) {
    super(
      'config_invalid',
      `configuration has ${problems.length} problem(s):\n` +
        problems.map((p) => `  - ${p.path || '(root)'}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}
