import type { Request, Response } from 'express';
import type { Config } from '../../../config/schema';
import { enabledConnectionTypes } from '../../../connections/connection-types';
import type { ResponseBody } from '../types';

export function metaHandlers(config: Config) {
  return {
    health: (_req: Request, res: Response<ResponseBody<'health', 200>>): void => {
      res.json({});
    },

    connectionTypes: (
      _req: Request,
      res: Response<ResponseBody<'getConnectionTypes', 200>>,
    ): void => {
      const body: ResponseBody<'getConnectionTypes', 200> = {};
      for (const t of enabledConnectionTypes(config)) {
        body[t.type] = {
          type: t.type,
          eventType: t.eventType,
          service: t.service,
          botUserId: config.provisioning.botUserId,
        };
      }
      res.json(body);
    },
  };
}
