import type { Request, Response } from 'express';
import type { ClientInput, ClientService } from '../../../clients/client-service';
import { MaubotApiError } from '../errors';
import { requireJsonObject } from '../request-body';
import type { ResponseBody } from '../types';
import { jsonAnswerSender } from '../../../http/json-answer';

type IdRequest = Request<{ id: string }>;

export function clientHandlers(clients: ClientService) {
  // Lists and items are answered from memory, each distinct answer checked once.
  const send = jsonAnswerSender();
  return {
    list: async (_req: Request, res: Response<ResponseBody<'getClients', 200>>): Promise<void> => {
      send(res, await clients.listAnswer());
    },

    get: async (req: IdRequest, res: Response<ResponseBody<'getClient', 200>>): Promise<void> => {
      send(res, await clients.getAnswer(req.params.id));
    },

    create: async (
      req: Request<object, unknown, ClientInput>,
      res: Response<ResponseBody<'createClient', 201>>,
    ): Promise<void> => {
      res.status(201).json(await clients.create(requireJsonObject(req.body)));
    },

    /** Unknown id: create (201); known: update (200, as maubot's code, not its spec's 202). */
    put: async (
      req: Request<{ id: string }, unknown, ClientInput>,
      res: Response<ResponseBody<'putClient', 200 | 201>>,
    ): Promise<void> => {
      const { client, created } = await clients.put(req.params.id, requireJsonObject(req.body));
      res.status(created ? 201 : 200).json(client);
    },

    delete: async (req: IdRequest, res: Response): Promise<void> => {
      await clients.delete(req.params.id);
      res.status(204).end();
    },

    clearCache: async (
      req: IdRequest,
      res: Response<ResponseBody<'clearClientCache', 200>>,
    ): Promise<void> => {
      await clients.clearCache(req.params.id);
      res.json({ success: true });
    },

    /** Cross-signing needs end-to-end encryption, which bot clients do not have. */
    verify: async (req: IdRequest): Promise<void> => {
      // maubot's order: the client, then the body.
      await clients.get(req.params.id);
      requireJsonObject(req.body);
      throw cryptoUnsupported();
    },

    generateRecoveryKey: async (req: IdRequest): Promise<void> => {
      await clients.get(req.params.id);
      throw cryptoUnsupported();
    },
  };
}

function cryptoUnsupported(): MaubotApiError {
  return new MaubotApiError(
    'internal_crypto_error',
    'Internal crypto error: end-to-end encryption is not supported for bot clients',
  );
}
