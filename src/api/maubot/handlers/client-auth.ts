import type { Request, Response } from 'express';
import type { AuthRequest, ClientAuthService } from '../../../clients/client-auth-service';
import { jsonObjectOrNull } from '../request-body';
import type { ResponseBody } from '../types';

type ServerRequest = Request<{ server: string }, unknown, AuthRequest | undefined>;

/** maubot's boolean query flags: `1`, `true` or `yes` in any case. */
function flag(value: unknown): boolean {
  return typeof value === 'string' && ['1', 'true', 'yes'].includes(value.toLowerCase());
}

function flags(req: Request) {
  return { updateClient: flag(req.query.update_client), sso: flag(req.query.sso) };
}

export function clientAuthHandlers(auth: ClientAuthService) {
  return {
    servers: (_req: Request, res: Response<ResponseBody<'getAuthServers', 200>>): void => {
      res.json(auth.servers());
    },

    register: async (req: ServerRequest, res: Response): Promise<void> => {
      const outcome = await auth.register(
        req.params.server,
        jsonObjectOrNull(req.body),
        flags(req),
      );
      res.status(outcome.status).json(outcome.body);
    },

    login: async (req: ServerRequest, res: Response): Promise<void> => {
      const outcome = await auth.login(req.params.server, jsonObjectOrNull(req.body), flags(req));
      res.status(outcome.status).json(outcome.body);
    },

    /** Long-poll; a client that hangs up cancels the SSO login. */
    waitForSso: async (req: Request<{ server: string; id: string }>, res: Response) => {
      const abort = new AbortController();
      res.on('close', () => abort.abort());
      const outcome = await auth.waitForSso(req.params.server, req.params.id, abort.signal);
      res.status(outcome.status).json(outcome.body);
    },

    completeSso: (req: Request<{ id: string }>, res: Response): void => {
      const token = typeof req.query.loginToken === 'string' ? req.query.loginToken : undefined;
      const { status, text } = auth.completeSso(req.params.id, token);
      res.status(status).type('text/plain').send(text);
    },
  };
}
