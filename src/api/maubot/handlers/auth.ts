import type { Request, Response } from 'express';
import type { AdminAuthService } from '../../../admins/admin-auth-service';
import type { Config } from '../../../config/schema';
import { requireAdmin } from '../auth-middleware';
import { MaubotApiError } from '../errors';
import type { ResponseBody } from '../types';

export function authHandlers(config: Config, admins: AdminAuthService) {
  return {
    login: async (req: Request, res: Response<ResponseBody<'login', 200>>): Promise<void> => {
      const body: unknown = req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new MaubotApiError('body_not_json');
      }
      const token = await admins.login(body);
      if (token === null) throw new MaubotApiError('invalid_auth');
      res.json({ token });
    },

    ping: (req: Request, res: Response<ResponseBody<'ping', 200>>): void => {
      const username = requireAdmin(admins, req);
      res.json({ username, features: config.apiFeatures });
    },
  };
}
