/** Reported by the built-in MCP server and `responder --version`; kept equal to package.json's version. */
export const RESPONDER_VERSION = '0.1.0';
