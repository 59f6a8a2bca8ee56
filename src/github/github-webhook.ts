import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Knex } from 'knex';
import { GITHUB_REPO, type StoredConnection } from '../bridge/connection-types';
import type { RoomMessenger } from '../bridge/room-messenger';
import { DeliveryIds } from '../bridge/delivery-ids';
import { hubSignatureMatches } from '../net/hub-signature';
import type { Logger } from '../logging/logger';
import { githubNotice } from './github-notices';
import type { GithubRepoConfig } from './github-repo-config';
import { OauthCallbackError, messageOf, type GithubService } from './github-service';

export interface GithubWebhookDeps {
  github: GithubService;
  db: Knex;
  logger: Logger;
  messenger: RoomMessenger;
  /** The connections known now (the connection service's index). */
  connections(): readonly StoredConnection[];
}

/** GitHub sends at most 25 MB per delivery. */
const BODY_LIMIT = '25mb';

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title: string, text: string): string =>
  `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
  `<body><p>${escapeHtml(text)}</p></body></html>`;

/**
 * The GitHub side of the `webhooks` listener: App webhook deliveries (verified, de-duplicated,
 * then routed to the repository connections) and the OAuth callback pages.
 */
export function githubWebhookRouter(deps: GithubWebhookDeps): Router {
  const router = Router();
  const deliveries = new DeliveryIds(deps.db, 'github');
  const raw = express.raw({ type: () => true, limit: BODY_LIMIT });

  const receive = async (req: Request, res: Response): Promise<void> => {
    const secret = deps.github.config.webhookSecret;
    const signature = req.header('x-hub-signature-256');
    const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const valid = signature !== undefined && hubSignatureMatches(signature, raw, secret);
    if (!valid) {
      deps.logger.warn(
        { delivery: req.header('x-github-delivery') },
        'GitHub webhook delivery with a missing or bad signature refused',
      );
      res.status(401).json({ errcode: 'HS_BAD_TOKEN', error: 'Signature did not match' });
      return;
    }
    const event = req.header('x-github-event');
    const deliveryId = req.header('x-github-delivery');
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      payload = undefined;
    }
    if (!event || !deliveryId || typeof payload !== 'object' || payload === null) {
      res.status(400).json({
        errcode: 'M_BAD_JSON',
        error: 'A delivery needs X-GitHub-Event, X-GitHub-Delivery and a JSON object body',
      });
      return;
    }
    if (!(await deliveries.firstTime(deliveryId))) {
      res.status(200).type('text/plain').send('OK');
      return;
    }
    // GitHub waits at most 10 s for an answer, so the notices go out after it.
    res.status(200).type('text/plain').send('OK');
    await route(deps, event, payload as Record<string, unknown>, deliveryId);
  };

  router.post('/github/webhook', raw, receive);
  // The path older hookshot set-ups registered for the App's webhook.
  router.post(
    '/',
    (req: Request, _res: Response, next: NextFunction) => {
      next(req.header('x-github-delivery') ? undefined : 'route');
    },
    raw,
    receive,
  );

  const callback = async (req: Request, res: Response): Promise<void> => {
    try {
      const result = await deps.github.handleOauthCallback(req.query);
      res.status(200).type('html').send(page('GitHub', result.message));
    } catch (err) {
      if (err instanceof OauthCallbackError) {
        res.status(err.status).type('html').send(page('GitHub login failed', err.message));
        return;
      }
      const status =
        typeof err === 'object' && err !== null && 'errcode' in err && err.errcode !== 'HS_UNKNOWN'
          ? 400
          : 500;
      if (status === 500)
        deps.logger.error({ err: messageOf(err) }, 'GitHub OAuth callback failed');
      res
        .status(status)
        .type('html')
        .send(
          page(
            'GitHub login failed',
            status === 400 ? messageOf(err) : 'Failed to handle oauth request',
          ),
        );
    }
  };
  router.get('/oauth', callback);
  router.get('/github/oauth', callback);
  return router;
}

/** Posts the event's notice to every connection of its repository. */
async function route(
  deps: GithubWebhookDeps,
  event: string,
  payload: Record<string, unknown>,
  deliveryId: string,
): Promise<void> {
  const repository = payload.repository;
  const fullName =
    typeof repository === 'object' && repository !== null && 'full_name' in repository
      ? repository.full_name
      : undefined;
  if (typeof fullName !== 'string') return;
  const target = fullName.toLowerCase();
  const matching = deps
    .connections()
    .filter(
      (c) =>
        c.eventType === GITHUB_REPO.eventType &&
        typeof c.config.org === 'string' &&
        typeof c.config.repo === 'string' &&
        `${c.config.org}/${c.config.repo}`.toLowerCase() === target,
    );
  await Promise.all(
    matching.map(async (c) => {
      const content = githubNotice(event, payload, c.config as GithubRepoConfig);
      if (!content) return;
      try {
        await deps.messenger.send(c.roomId, content);
      } catch (err) {
        deps.logger.warn(
          { err: messageOf(err), roomId: c.roomId, delivery: deliveryId },
          'Could not post a GitHub notice',
        );
      }
    }),
  );
}
