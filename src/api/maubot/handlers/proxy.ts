import type { Request, Response } from 'express';
import type { ClientService } from '../../../clients/client-service';
import { forward } from '../../../http/forward';
import { MaubotApiError } from '../errors';

type ProxyRequest = Request<{ id: string; path: string[] }>;

/**
 * `ANY /proxy/{id}/{path}`: acts as the client on its homeserver (the UI's avatar upload and
 * download). The caller's headers go along but for Host, with the client's own token.
 */
export function proxyHandler(clients: ClientService) {
  return async (req: ProxyRequest, res: Response): Promise<void> => {
    const path = req.params.path.join('/');
    if (!path.startsWith('_matrix/')) throw new MaubotApiError('proxy_path_invalid');
    const { homeserver, accessToken } = await clients.access(req.params.id);
    const url = new URL(`${homeserver}/${path.split('/').map(encodeURIComponent).join('/')}`);
    const query = new URLSearchParams(req.originalUrl.split('?')[1] ?? '');
    query.delete('access_token');
    url.search = query.toString();
    const headers = { ...req.headers };
    delete headers.host;
    headers.authorization = `Bearer ${accessToken}`;
    headers['x-forwarded-for'] ??= `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    await forward(req, res, { url, headers });
  };
}
