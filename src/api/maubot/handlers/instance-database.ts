import type { Request, Response } from 'express';
import type { InstanceDatabaseService } from '../../../instances/instance-database-service';

type IdRequest = Request<{ id: string; table?: string }>;

export function instanceDatabaseHandlers(databases: InstanceDatabaseService) {
  return {
    tables: async (req: IdRequest, res: Response) => {
      res.json(await databases.tables(req.params.id));
    },

    table: async (req: Request<{ id: string; table: string }>, res: Response) => {
      const order = ([] as unknown[]).concat(req.query.order ?? []).map(String);
      const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
      res.json(await databases.table(req.params.id, req.params.table, order, limit));
    },

    query: async (
      req: Request<{ id: string }, unknown, { query?: string; rows_as_dict?: boolean } | undefined>,
      res: Response,
    ) => {
      const body = req.body ?? {};
      res.json(await databases.query(req.params.id, body.query, body.rows_as_dict ?? false));
    },
  };
}
