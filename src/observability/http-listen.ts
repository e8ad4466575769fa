// Starting and stopping a node:http server on a host:port, as a promise.

import { type RequestListener, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A listening HTTP server. */
export interface Listening {
  readonly server: Server;
  /** The bound port (useful when asked for port 0). */
  readonly port: number;
  /** Stops accepting and ends open connections; resolves when closed. */
  close(): Promise<void>;
}

/**
 * Listens on host:port (port 0 picks a free one). Rejects with the listen
 * error (EADDRINUSE, EADDRNOTAVAIL, EACCES) and leaves nothing open then.
 */
export function listen(host: string, port: number, handler: RequestListener): Promise<Listening> {
  const server = createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve({
        server,
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}
