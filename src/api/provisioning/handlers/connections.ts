import type { Request, Response } from 'express';
import type { ConnectionService } from '../../../bridge/connection-service';
import type { ResponseBody } from '../types';

type RoomRequest = Request<{ roomId: string }>;
type ConnectionRequest = Request<{ roomId: string; connectionIdOrType: string }>;

const userOf = (req: Request): string => req.query.userId as string;

export function connectionHandlers(connections: ConnectionService) {
  return {
    list: async (
      req: RoomRequest,
      res: Response<ResponseBody<'listConnections', 200>>,
    ): Promise<void> => {
      res.json(await connections.list(req.params.roomId, userOf(req)));
    },

    get: async (
      req: ConnectionRequest,
      res: Response<ResponseBody<'getConnection', 200>>,
    ): Promise<void> => {
      const { roomId, connectionIdOrType: id } = req.params;
      res.json(await connections.describe(roomId, id, userOf(req)));
    },

    /** PUT names the state event type, not a connection id. */
    create: async (
      req: ConnectionRequest,
      res: Response<ResponseBody<'createConnection', 200>>,
    ): Promise<void> => {
      const { roomId, connectionIdOrType: eventType } = req.params;
      res.json(await connections.create(roomId, eventType, userOf(req), req.body));
    },

    update: async (
      req: ConnectionRequest,
      res: Response<ResponseBody<'updateConnection', 200>>,
    ): Promise<void> => {
      const { roomId, connectionIdOrType: id } = req.params;
      res.json(await connections.update(roomId, id, userOf(req), req.body));
    },

    remove: async (
      req: ConnectionRequest,
      res: Response<ResponseBody<'deleteConnection', 200>>,
    ): Promise<void> => {
      const { roomId, connectionIdOrType: id } = req.params;
      await connections.remove(roomId, id, userOf(req));
      res.json({ ok: true });
    },
  };
}
