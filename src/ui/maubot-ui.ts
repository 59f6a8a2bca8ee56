import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { Router } from 'express';
import { MAUBOT_API_PATH } from '../api/maubot/router';
import type { Config } from '../config/schema';

export const MAUBOT_UI_PATH = '/_matrix/maubot';

/**
 * paths.json (how maubot's web UI finds the API) and, when configured, the UI build itself.
 * The UI loads relative assets, so it must be served under a trailing slash.
 */
export function maubotUiRouter(config: Config): Router {
  // Strict routing: "/_matrix/maubot" and "/_matrix/maubot/" are different pages here.
  const router = Router({ strict: true });
  const prefix = new URL(config.server.publicUrl).pathname.replace(/\/$/, '');
  router.get(`${MAUBOT_UI_PATH}/paths.json`, (_req, res) => {
    res.json({ api_path: `${prefix}${MAUBOT_API_PATH}` });
  });

  const dir = config.server.uiDirectory ? resolve(config.server.uiDirectory) : null;
  if (dir !== null && existsSync(join(dir, 'index.html'))) {
    const index = join(dir, 'index.html');
    const serveStatic = express.static(dir, { index: 'index.html', redirect: false });
    router.get(MAUBOT_UI_PATH, (_req, res) => {
      res.redirect(301, `${prefix}${MAUBOT_UI_PATH}/`);
    });
    // The API below this path is mounted first and answers everything under /v1 itself.
    router.use(`${MAUBOT_UI_PATH}/`, (req, res, next) => {
      serveStatic(req, res, () => {
        // Unknown files under static/ get index.html, as maubot serves them.
        if (
          (req.method === 'GET' || req.method === 'HEAD') &&
          (req.path === '/' || req.path.startsWith('/static/'))
        ) {
          res.sendFile(index);
        } else next();
      });
    });
  }
  return router;
}
