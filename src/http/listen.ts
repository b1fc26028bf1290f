import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import { getRequestListener, type ServerType } from '@hono/node-server';
import { ServerError } from '../domain/errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** A failed listen as one line naming the port and the config key, for `responder serve` to print. */
function listenError(error: NodeJS.ErrnoException, address: ListenAddress): ServerError {
  const where = `${address.host}:${address.port}`;
  const details = { port: address.port, host: address.host };
  switch (error.code) {
    case 'EADDRINUSE':
      return new ServerError('port_in_use', `port ${address.port} is already in use on ${address.host} (server.port, RESPONDER_SERVER__PORT): stop what listens there or choose another port`, details);
    case 'EACCES':
      return new ServerError('listen_failed', `not permitted to listen on ${where} (server.port, RESPONDER_SERVER__PORT): ports below 1024 need root or CAP_NET_BIND_SERVICE`, details);
    case 'EADDRNOTAVAIL':
      return new ServerError('listen_failed', `cannot listen on ${where}: ${address.host} is not an address of this machine (server.host, RESPONDER_SERVER__HOST)`, details);
    default:
      return new ServerError('listen_failed', `cannot listen on ${where}: ${error.message}`, details, { cause: error });
  }
}

/**
 * Fails early, before the database starts, when the port is already taken: a second `npm start` should
 * say so at once. The real listen at the end of start-up still reports a port lost in between.
 */
export function ensurePortFree(address: ListenAddress): Promise<void> {
  if (address.port === 0) return Promise.resolve();
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => fail(listenError(error, address)));
    probe.listen(address.port, address.host, () => probe.close(() => done()));
  });
}

/** Answers a request straight on Node's objects and returns true, or returns false and leaves it to the app. */
export type FastPath = (incoming: IncomingMessage, outgoing: ServerResponse) => boolean;

/** Starts the HTTP server on server.host:server.port; requests `fastPath` takes never reach `fetch`. */
export function listen(fetch: (request: Request) => Response | Promise<Response>, address: ListenAddress, fastPath?: FastPath): Promise<ServerType> {
  return new Promise<ServerType>((done, fail) => {
    // What @hono/node-server's serve() does, with the fast path in front of the app's request listener.
    const app = getRequestListener(fetch, { hostname: address.host });
    const server = createHttpServer(fastPath ? (incoming, outgoing) => void (fastPath(incoming, outgoing) || app(incoming, outgoing)) : app);
    server.listen(address.port, address.host, () => {
      server.off('error', onError);
      done(server);
    });
    function onError(error: NodeJS.ErrnoException) {
      fail(listenError(error, address));
    }
    server.once('error', onError);
  });
}
