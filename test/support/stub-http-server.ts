import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type StubHandler = (request: IncomingMessage, response: ServerResponse) => void;

/** Loopback HTTP servers answering as a test says, for the odd answers real backends rarely give; stopAll() after each test. */
export function stubHttpServers(): { start(handler: StubHandler): Promise<string>; stopAll(): Promise<void> } {
  const servers: Server[] = [];
  return {
    async start(handler) {
      const server = createServer(handler);
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async stopAll() {
      await Promise.all(
        servers.splice(0).map(
          (server) =>
            new Promise((resolve) => {
              server.closeAllConnections();
              server.close(resolve);
            }),
        ),
      );
    },
  };
}

/** A handler that always answers with this status and body. */
export function answerWith(status: number, body: string, type = 'application/json'): StubHandler {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': type });
    response.end(body);
  };
}
