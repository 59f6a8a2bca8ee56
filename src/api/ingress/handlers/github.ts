import express, { Router, type Request, type Response } from 'express';
import type { GithubEvents } from '../../../github/github-events';
import type { GithubCallbackOutcome, GithubService } from '../../../github/github-service';
import { answersAs, githubPage } from '../error-middleware';
import { IngressError } from '../errors';
import { answerEvent } from './events';

/** GitHub sends at most 25 MB per delivery. */
const BODY_LIMIT = '25mb';
const BRIDGED = 'Your GitHub account has been bridged';

function installText(setupAction: string): string {
  if (setupAction === 'install') return 'The GitHub App is installed';
  if (setupAction === 'request')
    return 'The installation of the GitHub App awaits approval by an owner';
  return `GitHub App installation: ${setupAction}`;
}

/** The page of a callback that went well; failures are thrown for the error middleware. */
function callbackText(outcome: GithubCallbackOutcome): string {
  switch (outcome.kind) {
    case 'linked':
      return outcome.setupAction === undefined
        ? BRIDGED
        : `${installText(outcome.setupAction)}. ${BRIDGED}`;
    case 'installed':
      return outcome.unlinked === 'noCode'
        ? installText(outcome.setupAction)
        : `${installText(outcome.setupAction)}. No Matrix account was linked: log in to GitHub from your integration manager to use it`;
    case 'disabled':
      throw new IngressError(400, outcome.message);
    case 'missing':
      throw new IngressError(400, outcome.parameter === 'state' ? 'Missing state' : 'Missing code');
    case 'unknownState':
      throw new IngressError(
        404,
        'Could not find user which authorised this request. Has it timed out?',
      );
    case 'forbidden':
      throw new IngressError(403, 'You are not permitted to log in to GitHub on this bridge.');
    case 'codeRefused':
      throw new IngressError(400, 'GitHub refused the login code; please log in again');
    case 'exchangeFailed':
      throw new IngressError(500, 'Could not reach GitHub to complete the login');
  }
}

/**
 * GitHub on the `webhooks` listener: the App's deliveries at `/github/webhook` (and `POST /`
 * with `X-GitHub-Delivery`, where older set-ups registered it), the OAuth callback pages.
 */
export function githubRoutes(events: GithubEvents, github: GithubService): Router {
  const router = Router();
  const raw = express.raw({ type: () => true, limit: BODY_LIMIT });

  const receive = async (req: Request, res: Response): Promise<void> => {
    const outcome = await events.receive({
      body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      signature: req.get('x-hub-signature-256'),
      deliveryId: req.get('x-github-delivery'),
      event: req.get('x-github-event'),
    });
    answerEvent(res, outcome, 'GitHub');
  };
  router.post('/github/webhook', answersAs('errcode'), raw, receive);
  router.post(
    '/',
    (req, _res, next) => next(req.get('x-github-delivery') ? undefined : 'route'),
    answersAs('errcode'),
    raw,
    receive,
  );

  const callback = async (req: Request, res: Response): Promise<void> => {
    const text = callbackText(await github.handleOauthCallback(req.query));
    res.status(200).type('html').send(githubPage('GitHub', text));
  };
  router.get(['/oauth', '/github/oauth'], answersAs('githubPage'), callback);
  return router;
}
