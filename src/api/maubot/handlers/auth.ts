import type { Request, Response } from 'express';
import type { AdminAuthService } from '../../../admins/admin-auth-service';
import type { Config } from '../../../config/schema';
import { requireAdmin } from '../auth-middleware';
import { MaubotApiError } from '../errors';
import { requireJsonObject } from '../request-body';
import type { ResponseBody } from '../types';

export function authHandlers(config: Config, admins: AdminAuthService) {
  return {
    login: async (req: Request, res: Response<ResponseBody<'login', 200>>): Promise<void> => {
      const token = await admins.login(requireJsonObject(req.body));
      if (token === null) throw new MaubotApiError('invalid_auth');
      res.json({ token });
    },

    ping: (req: Request, res: Response<ResponseBody<'ping', 200>>): void => {
      const username = requireAdmin(admins, req);
      res.json({ username, features: config.apiFeatures });
    },
  };
}
