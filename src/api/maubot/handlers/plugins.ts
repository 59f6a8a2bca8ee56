import type { Request, Response } from 'express';
import type { UploadedFile } from '../../../plugins/uploaded-file';
import { NOT_A_PLUGIN } from '../../../plugins/plugin-archive';
import { PluginInvalidError } from '../../../plugins/plugin-meta';
import type { PluginService } from '../../../plugins/plugin-service';
import type { ResponseBody } from '../types';
import { jsonAnswerSender } from '../../../http/json-answer';

export function pluginHandlers(
  plugins: PluginService,
  /** The spooled archive of an upload request (raw zip or multipart `file` part). */
  uploadedFile: (req: Request, res: Response) => UploadedFile | null,
) {
  // Lists and items are answered from memory, each distinct answer checked once.
  const send = jsonAnswerSender();
  const archiveOf = (req: Request, res: Response): UploadedFile => {
    const file = uploadedFile(req, res);
    if (!file) throw new PluginInvalidError(NOT_A_PLUGIN, 'the request carries no archive');
    return file;
  };

  return {
    list: async (_req: Request, res: Response<ResponseBody<'getPlugins', 200>>): Promise<void> => {
      send(res, await plugins.listAnswer());
    },

    get: async (
      req: Request<{ id: string }>,
      res: Response<ResponseBody<'getPlugin', 200>>,
    ): Promise<void> => {
      send(res, await plugins.getAnswer(req.params.id));
    },

    /** POST /plugins/upload: any non-empty allow_override replaces an existing plugin, as maubot. */
    upload: async (
      req: Request,
      res: Response<ResponseBody<'uploadPlugin', 200 | 201>>,
    ): Promise<void> => {
      const override = req.query.allow_override;
      const { plugin, created } = await plugins.upload(archiveOf(req, res), {
        allowOverride: typeof override === 'string' && override !== '',
      });
      res.status(created ? 201 : 200).json(plugin);
    },

    /** PUT /plugin/{id}: creates or replaces; the archive must carry the path's id. */
    put: async (
      req: Request<{ id: string }>,
      res: Response<ResponseBody<'putPlugin', 200 | 201>>,
    ): Promise<void> => {
      const { plugin, created } = await plugins.upload(archiveOf(req, res), {
        allowOverride: true,
        expectedId: req.params.id,
      });
      res.status(created ? 201 : 200).json(plugin);
    },

    delete: async (req: Request<{ id: string }>, res: Response): Promise<void> => {
      await plugins.delete(req.params.id);
      res.status(204).end();
    },

    reload: async (
      req: Request<{ id: string }>,
      res: Response<ResponseBody<'reloadPlugin', 200>>,
    ): Promise<void> => {
      await plugins.reload(req.params.id);
      res.json({ success: true });
    },
  };
}
