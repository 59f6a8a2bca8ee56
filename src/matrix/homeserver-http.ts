import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { HOMESERVER_TIMEOUT_MS } from './homeserver-api';
import { HomeserverError, HomeserverUnreachableError, toHomeserverError } from './matrix-errors';

// Connections to homeservers are kept open between sends (one pool for every client).
const HTTP_AGENT = new HttpAgent({ keepAlive: true, maxSockets: 64 });
const HTTPS_AGENT = new HttpsAgent({ keepAlive: true, maxSockets: 64 });

/**
 * One Client-Server API call with a JSON body, straight over node:http on kept-alive
 * connections (sends are the busiest calls; the SDK's request stack costs more than the send).
 * A refusal is a HomeserverError with the homeserver's errcode.
 */
export function sendJson(
  homeserver: string,
  accessToken: string,
  method: string,
  path: string,
  json: string,
): Promise<Record<string, unknown>> {
  const url = new URL(path, homeserver.replace(/\/+$/, '') + '/');
  const data = Buffer.from(json);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method,
        agent: url.protocol === 'https:' ? HTTPS_AGENT : HTTP_AGENT,
        timeout: HOMESERVER_TIMEOUT_MS,
        headers: {
          Authorization: `Bearer ${accessToken}`,
          'Content-Type': 'application/json',
          'Content-Length': String(data.length),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (err) => reject(new HomeserverUnreachableError(err.message)));
        res.on('end', () => {
          let body: Record<string, unknown> = {};
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          } catch {
            // Not JSON (a proxy's error page): the status says enough.
          }
          const status = res.statusCode ?? 500;
          if (status >= 200 && status < 300) {
            resolve(body);
            return;
          }
          reject(
            new HomeserverError(
              status,
              typeof body.errcode === 'string' ? body.errcode : 'M_UNKNOWN',
              typeof body.error === 'string' ? body.error : `HTTP ${status}`,
              body,
            ),
          );
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => reject(new HomeserverUnreachableError(err.message)));
    req.end(data);
  });
}

/** Downloads media from one of the homeserver's media paths as the account. */
export async function fetchMedia(
  homeserver: string,
  accessToken: string,
  path: string,
): Promise<{ data: Buffer; contentType: string }> {
  const url = `${homeserver.replace(/\/+$/, '')}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { Authorization: `Bearer ${accessToken}` },
      signal: AbortSignal.timeout(HOMESERVER_TIMEOUT_MS),
    });
  } catch (err) {
    throw toHomeserverError(err);
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    throw new HomeserverError(
      res.status,
      typeof body.errcode === 'string' ? body.errcode : 'M_UNKNOWN',
      typeof body.error === 'string' ? body.error : `media download failed (${res.status})`,
      body,
    );
  }
  return {
    data: Buffer.from(await res.arrayBuffer()),
    contentType: res.headers.get('content-type') ?? 'application/octet-stream',
  };
}
