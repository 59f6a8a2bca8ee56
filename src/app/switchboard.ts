import { once } from 'node:events';
import type { Server } from 'node:http';
import type { Express } from 'express';
import { attachLogSocket, type LogSocket } from '../api/maubot/log-socket';
import type { Resource } from '../config/schema';
import { createApp } from './create-app';
import { createServices, type ServiceOptions, type Services } from './services';

/** How long requests in flight get to finish when Switchboard stops. */
export const SHUTDOWN_GRACE_MS = 1_000;

export interface ListenerAddress {
  port: number;
  bindAddress: string;
  /** What it serves; all resources when omitted. */
  resources?: readonly Resource[];
}

/**
 * The composition root: the service graph every listener shares, built once, and its life
 * (start, listeners, stop in one order). The server process, the tests and the benchmark all
 * run Switchboard through it; the database is opened and closed by whoever owns it.
 */
export class Switchboard {
  readonly services: Services;
  private readonly servers: Server[] = [];
  private readonly logSockets: LogSocket[] = [];

  constructor(options: ServiceOptions) {
    this.services = createServices(options);
  }

  /** Loads the connections and starts the bridge; call before any listener answers for them. */
  async start(options: { clients?: boolean } = {}): Promise<void> {
    if (options.clients) await this.services.clients.startAll();
    await this.services.bridge.start();
  }

  /** The HTTP app of one listener, not listening. */
  app(resources?: readonly Resource[]): Express {
    return createApp({ ...this.services, ...(resources ? { resources } : {}) });
  }

  /** Serves `app` (the listener's own by default); maubot's log websocket rides along. */
  async listen(address: ListenerAddress, app = this.app(address.resources)): Promise<Server> {
    const server = app.listen(address.port, address.bindAddress);
    await once(server, 'listening');
    this.servers.push(server);
    if (!address.resources || address.resources.includes('maubot')) {
      this.logSockets.push(attachLogSocket(server, this.services));
    }
    return server;
  }

  /**
   * The one shutdown order. The listeners stop first, in parallel with the services: what
   * clients hold open (log sockets, idle or half-open connections) is cut after a short grace,
   * so it never delays the stop. Then client logins, plugin instances, Matrix clients and the
   * bridge stop in that order (instances need their clients; the bridge's deliveries its bot).
   */
  async stop(graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
    const listenersClosed = Promise.all([
      ...this.logSockets.map((socket) => socket.close()),
      ...this.servers.map((server) => closeServer(server, graceMs)),
    ]);
    const { clientAuth, instances, clients, bridge } = this.services;
    clientAuth.close();
    await instances.stopAll();
    await clients.stopAll();
    await bridge.stop();
    await listenersClosed;
  }
}

/** Stops accepting connections, closes idle ones now and every other one after the grace. */
async function closeServer(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const cut = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearTimeout(cut);
}
