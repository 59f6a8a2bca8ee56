import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AdminAuthService } from '../../admins/admin-auth-service';
import type { Config } from '../../config/schema';
import type { LogHub } from '../../logging/log-hub';
import { MAUBOT_API_PATH } from './router';

/** Close code for a socket that did not authenticate in time (what maubot's UI expects). */
export const CLOSE_UNAUTHENTICATED = 4000;
/** Close code on server shutdown ("service restart"). */
export const CLOSE_RESTART = 1012;
export const AUTH_TIMEOUT_MS = 5_000;

export interface LogSocket {
  close(): void;
}

/**
 * maubot's live log stream at `/_matrix/maubot/v1/logs`: the first text frame is the token;
 * then `{"auth_success": true}`, `{"history": [...]}` and one message per new record.
 */
export function attachLogSocket(
  server: Server,
  deps: { config: Config; admins: AdminAuthService; logHub: LogHub },
  authTimeoutMs = AUTH_TIMEOUT_MS,
): LogSocket {
  const wss = new WebSocketServer({ noServer: true });
  const path = `${MAUBOT_API_PATH}/logs`;

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== path) return;
    if (!deps.config.apiFeatures.log) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws));
  };

  const serve = (ws: WebSocket) => {
    let unsubscribe: (() => void) | undefined;
    const timer = setTimeout(() => {
      if (!unsubscribe) ws.close(CLOSE_UNAUTHENTICATED, 'authentication timeout');
    }, authTimeoutMs);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      const token = bytes.toString('utf8');
      if (deps.admins.userForToken(token.trim()) === null) {
        if (!unsubscribe) ws.send(JSON.stringify({ auth_success: false }));
        return;
      }
      ws.send(JSON.stringify({ auth_success: true }));
      ws.send(JSON.stringify({ history: deps.logHub.recent() }));
      unsubscribe ??= deps.logHub.subscribe((record) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(record));
      });
    });
    ws.on('close', () => {
      clearTimeout(timer);
      unsubscribe?.();
    });
  };

  server.on('upgrade', onUpgrade);
  return {
    close() {
      server.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.close(CLOSE_RESTART, 'server shutting down');
      wss.close();
    },
  };
}
