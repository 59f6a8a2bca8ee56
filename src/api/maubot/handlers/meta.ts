import type { Request, Response } from 'express';
import type { AdminAuthService } from '../../../admins/admin-auth-service';
import type { Config } from '../../../config/schema';
import { MAUBOT_VERSION } from '../../../version';
import { requestToken } from '../auth-middleware';
import type { ResponseBody } from '../types';

export function metaHandlers(config: Config, admins: AdminAuthService) {
  return {
    /** The login page needs `login` before anyone is logged in; admins get every flag. */
    features: (req: Request, res: Response<ResponseBody<'getFeatures', 200>>): void => {
      const token = requestToken(req);
      const authenticated = token !== '' && admins.userForToken(token) !== null;
      res.json(authenticated ? config.apiFeatures : { login: config.apiFeatures.login });
    },

    version: (_req: Request, res: Response<ResponseBody<'getVersion', 200>>): void => {
      res.json({ version: MAUBOT_VERSION });
    },

    /** Opening files in an editor on the server is never offered. */
    debugOpen: (_req: Request, res: Response<ResponseBody<'getDebugOpen', 200>>): void => {
      res.json({ enabled: false });
    },
  };
}
