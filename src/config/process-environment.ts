/**
 * The environment Responder was started with, for the child processes that inherit it: ansible-playbook
 * and stdio MCP servers. src/config is the only reader of process.env; everything else receives what it
 * needs as an option.
 */
export function inheritedEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
