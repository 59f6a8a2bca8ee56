import type { Request, Response } from 'express';
import type {
  AuthOutcome,
  AuthRequest,
  ClientAuthService,
  SsoCompletion,
} from '../../../clients/client-auth-service';
import { jsonObjectOrNull } from '../request-body';
import type { ResponseBody } from '../types';

type ServerRequest = Request<{ server: string }, unknown, AuthRequest | undefined>;

/** maubot's boolean query flags: `1`, `true` or `yes` in any case. */
function flag(value: unknown): boolean {
  return typeof value === 'string' && ['1', 'true', 'yes'].includes(value.toLowerCase());
}

/** maubot's statuses: 201 for a client created, 202 for one updated, 200 otherwise. */
const AUTH_STATUS: Record<AuthOutcome['kind'], number> = {
  credentials: 200,
  ssoStarted: 200,
  clientCreated: 201,
  clientUpdated: 202,
};

/** The SSO return page, for a person to read (one line each, as maubot's). */
const SSO_PAGE: Record<SsoCompletion, [number, string]> = {
  unknownSession: [404, 'Invalid session ID\n'],
  cancelled: [200, 'The login was cancelled from the Maubot client\n'],
  alreadyReceived: [200, 'The login token was already received\n'],
  missingToken: [400, 'Missing loginToken query parameter\n'],
  received: [
    200,
    'Login token received, please return to your Maubot client. This tab can be closed.\n',
  ],
};

const send = (res: Response, outcome: AuthOutcome): void => {
  res.status(AUTH_STATUS[outcome.kind]).json(outcome.body);
};

function flags(req: Request) {
  return { updateClient: flag(req.query.update_client), sso: flag(req.query.sso) };
}

export function clientAuthHandlers(auth: ClientAuthService) {
  return {
    servers: (_req: Request, res: Response<ResponseBody<'getAuthServers', 200>>): void => {
      res.json(auth.servers());
    },

    register: async (req: ServerRequest, res: Response): Promise<void> => {
      send(res, await auth.register(req.params.server, jsonObjectOrNull(req.body), flags(req)));
    },

    login: async (req: ServerRequest, res: Response): Promise<void> => {
      send(res, await auth.login(req.params.server, jsonObjectOrNull(req.body), flags(req)));
    },

    /** Long-poll; a client that hangs up cancels the SSO login. */
    waitForSso: async (req: Request<{ server: string; id: string }>, res: Response) => {
      const abort = new AbortController();
      res.on('close', () => abort.abort());
      send(res, await auth.waitForSso(req.params.server, req.params.id, abort.signal));
    },

    completeSso: (req: Request<{ id: string }>, res: Response): void => {
      const token = typeof req.query.loginToken === 'string' ? req.query.loginToken : undefined;
      const [status, text] = SSO_PAGE[auth.completeSso(req.params.id, token)];
      res.status(status).type('text/plain').send(text);
    },
  };
}
