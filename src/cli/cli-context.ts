import type { Command } from 'commander';

/** What every command in `src/cli/commands/` gets from the program besides the program itself. */
export interface CliContext {
  /** The global `--config` option: an explicit file, or undefined for $RESPONDER_CONFIG / ./responder.yaml. */
  configFile(): string | undefined;
  /**
   * A long-running command (serve, mcp serve) calls this once it is serving: the process then stays up
   * after the action returns, instead of exiting with process.exitCode as one-shot commands do.
   */
  keepRunning(): void;
}

/** Each command file exports one of these: it adds its command to the program (or to a parent group). */
export type RegisterCommand = (program: Command, cli: CliContext) => void;

/** The command groups (`responder <group> <command>`) and their descriptions, in one place. */
const GROUPS = {
  mcp: "Responder's built-in MCP server (Prometheus and Loki tools under mcp-grafana's names)",
  config: 'configuration tools',
  policy: 'policy tools (OPA)',
  audit: 'audit trail tools',
} as const;

/** The group command `name` on the program, created on first use, so its commands can live in separate files. */
export function commandGroup(program: Command, name: keyof typeof GROUPS): Command {
  return program.commands.find((command) => command.name() === name) ?? program.command(name).description(GROUPS[name]);
}
