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

type ErrorArgs<Code extends string> = [code: Code, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }];

/** The remediation catalog on disk cannot be used. */
export class CatalogError extends ResponderError {
  constructor(...[code, ...rest]: ErrorArgs<'catalog_missing' | 'catalog_invalid' | 'inventory_unreadable'>) {
    super(code, ...rest);
    this.name = 'CatalogError';
  }
}

/** Policy could not be built, loaded or started (an unreachable OPA at decision time is an outcome, not this). */
export class PolicyError extends ResponderError {
  constructor(...[code, ...rest]: ErrorArgs<'policy_missing' | 'policy_invalid' | 'policy_stale' | 'opa_missing' | 'policy_build_timeout' | 'policy_bundle_unreadable' | 'policy_start_failed'>) {
    super(code, ...rest);
    this.name = 'PolicyError';
  }
}

/** The database could not be started or reached. */
export class DatabaseError extends ResponderError {
  constructor(...[code, ...rest]: ErrorArgs<'database_start_failed' | 'database_in_use'>) {
    super(code, ...rest);
    this.name = 'DatabaseError';
  }
}

/** A monitoring backend (Prometheus, Loki) failed or answered something unreadable. */
export class BackendError extends ResponderError {
  constructor(...[code, ...rest]: ErrorArgs<'prometheus_query_failed' | 'prometheus_unreachable' | 'loki_query_failed' | 'loki_unreachable'>) {
    super(code, ...rest);
    this.name = 'BackendError';
  }
}

/** A caller (a person or the model) passed an argument that cannot be used as given. */
export class InvalidArgumentError extends ResponderError {
  constructor(...[code, ...rest]: ErrorArgs<'invalid_argument' | 'invalid_time'>) {
    super(code, ...rest);
    this.name = 'InvalidArgumentError';
  }
}

/** The eval scenario files cannot be used. */
export class ScenarioError extends ResponderError {
  constructor(...[code, ...rest]: ErrorArgs<'scenarios_missing' | 'scenario_invalid'>) {
    super(code, ...rest);
    this.name = 'ScenarioError';
  }
}

/** The audit key cannot be used, or an audit export cannot be read. */
export class AuditError extends ResponderError {
  constructor(...[code, ...rest]: ErrorArgs<'audit_key_unreadable' | 'audit_key_permissions' | 'audit_key_invalid' | 'audit_export_invalid'>) {
    super(code, ...rest);
    this.name = 'AuditError';
  }
}

/** A catalog entry names an executor that this service has not configured. */
export class ExecutionError extends ResponderError {
  constructor(...[code, ...rest]: ErrorArgs<'executor_missing'>) {
    super(code, ...rest);
    this.name = 'ExecutionError';
  }
}

/** The HTTP server could not listen where the config says (server.host, server.port). */
export class ServerError extends ResponderError {
  constructor(...[code, ...rest]: ErrorArgs<'port_in_use' | 'listen_failed' | 'replica_id_in_use'>) {
    super(code, ...rest);
    this.name = 'ServerError';
  }
}
