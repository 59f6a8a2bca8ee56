import type { Request, Response } from 'express';
import type { InstanceInput, InstanceService } from '../../../instances/instance-service';
import { requireJsonObject } from '../request-body';
import type { ResponseBody } from '../types';
import { jsonAnswerSender } from '../../../http/json-answer';

type IdRequest = Request<{ id: string }>;

export function instanceHandlers(instances: InstanceService) {
  // Lists and items are answered from memory, each distinct answer checked once.
  const send = jsonAnswerSender();
  return {
    list: async (_req: Request, res: Response<ResponseBody<'getInstances', 200>>) => {
      send(res, await instances.listAnswer());
    },

    get: async (req: IdRequest, res: Response<ResponseBody<'getInstance', 200>>) => {
      send(res, await instances.getAnswer(req.params.id));
    },

    /** Unknown id: create (201); known: update (200). Ids are lower-cased. */
    put: async (
      req: Request<{ id: string }, unknown, InstanceInput>,
      res: Response<ResponseBody<'putInstance', 200 | 201>>,
    ) => {
      const { instance, created } = await instances.put(req.params.id, requireJsonObject(req.body));
      res.status(created ? 201 : 200).json(instance);
    },

    delete: async (req: IdRequest, res: Response) => {
      await instances.delete(req.params.id);
      res.status(204).end();
    },
  };
}
