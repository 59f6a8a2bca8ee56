import type { Request, Response } from 'express';
import type { Config } from '../../../config/schema';
import { listedConnectionTypes } from '../../../bridge/connection-types';
import type { ResponseBody } from '../types';

export function metaHandlers(config: Config) {
  // The enabled types follow from the config alone, so the answer is built once.
  const connectionTypes: ResponseBody<'getConnectionTypes', 200> = {};
  for (const t of listedConnectionTypes(config)) {
    connectionTypes[t.type] = {
      type: t.type,
      eventType: t.eventType,
      service: t.service,
      botUserId: config.provisioning.botUserId,
    };
  }

  return {
    health: (_req: Request, res: Response<ResponseBody<'health', 200>>): void => {
      res.json({});
    },

    connectionTypes: (
      _req: Request,
      res: Response<ResponseBody<'getConnectionTypes', 200>>,
    ): void => {
      res.json(connectionTypes);
    },
  };
}
