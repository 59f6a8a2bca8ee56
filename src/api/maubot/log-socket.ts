import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';
import type { AdminAuthService } from '../../admins/admin-auth-service';
import type { Config } from '../../config/schema';
import type { LogHub } from '../../logging/log-hub';
import { namedLogger, type Logger } from '../../logging/logger';
import { clientAddressOf } from '../../http/client-address';
import { MAUBOT_API_PATH } from './router';

/** Close code for a socket that did not authenticate in time (what maubot's UI expects). */
export const CLOSE_UNAUTHENTICATED = 4000;
/** Close code on server shutdown ("service restart"). */
export const CLOSE_RESTART = 1012;
const REASONS = { 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable' };
export const AUTH_TIMEOUT_MS = 5_000;
/**
 * The largest message a client may send, before and after authentication: clients only ever
 * send a token (about 150 bytes). Anything bigger is closed with 1009 as soon as its frame
 * header announces it, before a byte of it is buffered.
 */
export const MAX_MESSAGE_BYTES = 4096;
/** How long a closing socket gets to finish the close handshake before it is cut. */
export const CLOSE_GRACE_MS = 1_000;
/**
 * Sockets still waiting for their token, from one client address and in all (each lasts
 * AUTH_TIMEOUT_MS at most): past either, new ones are refused with 429 before the handshake.
 */
export const MAX_PENDING_PER_ADDRESS = 8;
export const MAX_PENDING = 256;
/** A subscriber that reads slower than this much queued output is dropped (a stalled client). */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** Authenticated sockets are pinged this often; one that has not answered the last is cut. */
const HEARTBEAT_MS = 30_000;

export interface LogSocketOptions {
  authTimeoutMs?: number;
  closeGraceMs?: number;
}

export interface LogSocket {
  /**
   * Refuses new upgrades, closes every socket with 1012 and cuts those that do not finish the
   * close handshake within the grace; resolves when none is left.
   */
  close(): Promise<void>;
}

/**
 * maubot's live log stream at `/_matrix/maubot/v1/logs`: the first text frame is the token;
 * then `{"auth_success": true}`, `{"history": [...]}` and one message per new record. It owns
 * every upgrade request of its HTTP server: any other path is answered 404 and dropped.
 */
export function attachLogSocket(
  server: Server,
  deps: { config: Config; admins: AdminAuthService; logHub: LogHub; logger: Logger },
  options: LogSocketOptions = {},
): LogSocket {
  const authTimeoutMs = options.authTimeoutMs ?? AUTH_TIMEOUT_MS;
  const closeGraceMs = options.closeGraceMs ?? CLOSE_GRACE_MS;
  const logger = namedLogger(deps.logger, 'switchboard.log_socket');
  // closeTimeout is an option of ws that its type definitions do not list yet.
  const serverOptions: ServerOptions & { closeTimeout: number } = {
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    closeTimeout: closeGraceMs,
    perMessageDeflate: false,
  };
  const wss = new WebSocketServer(serverOptions);
  const path = `${MAUBOT_API_PATH}/logs`;
  /** Upgrade requests not yet answered (the handshake is synchronous, refusals are not). */
  const refusing = new Set<Duplex>();
  let closing = false;
  const clientAddress = clientAddressOf(deps.config.server.trustedProxies);
  /** Unauthenticated sockets by client address. */
  const pending = new Map<string, number>();
  let pendingTotal = 0;

  const refuse = (socket: Duplex, status: 404 | 429 | 503) => {
    const reason = REASONS[status];
    refusing.add(socket);
    socket.once('close', () => refusing.delete(socket));
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    // A client that never reads (or half-closes and leaves) must not keep the socket.
    setTimeout(() => socket.destroy(), closeGraceMs).unref();
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A reset or malformed connection must never become an unhandled 'error' event.
    socket.on('error', () => socket.destroy());
    if (closing) return refuse(socket, 503);
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      return refuse(socket, 404);
    }
    if (pathname !== path || !deps.config.apiFeatures.log) return refuse(socket, 404);
    const address = clientAddress(req);
    const fromAddress = pending.get(address) ?? 0;
    if (fromAddress >= MAX_PENDING_PER_ADDRESS || pendingTotal >= MAX_PENDING) {
      logger.info(
        { address, fromAddress, pending: pendingTotal },
        'refused a log socket: too many waiting for their token',
      );
      return refuse(socket, 429);
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      pending.set(address, fromAddress + 1);
      pendingTotal++;
      let waiting = true;
      serve(ws, () => {
        if (!waiting) return;
        waiting = false;
        pendingTotal--;
        const left = pending.get(address)! - 1;
        if (left === 0) pending.delete(address);
        else pending.set(address, left);
      });
    });
  };

  /** `doneWaiting`: the socket authenticated or closed (called at least once, counted once). */
  const serve = (ws: WebSocket, doneWaiting: () => void) => {
    let unsubscribe: (() => void) | undefined;
    let alive = true;
    let heartbeat: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      if (!unsubscribe) ws.close(CLOSE_UNAUTHENTICATED, 'authentication timeout');
    }, authTimeoutMs);
    const send = (message: unknown) => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_QUEUED_BYTES) {
        logger.warn('dropped a log socket whose client stopped reading');
        ws.terminate();
        return;
      }
      ws.send(JSON.stringify(message));
    };
    // ws answers protocol violations itself (1002, 1007 invalid UTF-8, 1009 too big) and then
    // reports them here; without this listener the process would die.
    ws.on('error', (err) => {
      logger.debug({ reason: err.message }, 'log socket closed for a protocol error');
    });
    ws.on('pong', () => (alive = true));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      const token = bytes.toString('utf8');
      if (deps.admins.userForToken(token.trim()) === null) {
        if (!unsubscribe) send({ auth_success: false });
        return;
      }
      send({ auth_success: true });
      send({ history: deps.logHub.recent() });
      if (unsubscribe) return;
      doneWaiting();
      unsubscribe = deps.logHub.subscribe(send);
      heartbeat = setInterval(() => {
        if (!alive) return ws.terminate();
        alive = false;
        ws.ping();
      }, HEARTBEAT_MS);
    });
    ws.on('close', () => {
      doneWaiting();
      clearTimeout(timer);
      clearInterval(heartbeat);
      unsubscribe?.();
    });
  };

  server.on('upgrade', onUpgrade);
  return {
    async close() {
      closing = true;
      const open = [...wss.clients];
      const gone = open.map((ws) =>
        ws.readyState === ws.CLOSED ? null : new Promise((resolve) => ws.once('close', resolve)),
      );
      for (const ws of open) ws.close(CLOSE_RESTART, 'server shutting down');
      const cut = setTimeout(() => {
        for (const ws of open) ws.terminate();
        for (const socket of refusing) socket.destroy();
      }, closeGraceMs);
      await Promise.all([
        ...gone,
        ...[...refusing].map((s) => new Promise((resolve) => s.once('close', resolve))),
      ]);
      clearTimeout(cut);
      server.off('upgrade', onUpgrade);
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}
