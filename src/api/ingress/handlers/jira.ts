import express, { Router, type Request, type Response } from 'express';
import type { JiraEvents } from '../../../jira/jira-events';
import type { JiraCallbackOutcome, JiraService } from '../../../jira/jira-service';
import { answersAs, jiraPage } from '../error-middleware';
import { IngressError } from '../errors';
import { answerEvent } from './events';

/** Whether a `POST /` is JIRA's (cloud sends the identifier header; Server's agent says JIRA). */
function looksLikeJira(req: Request): boolean {
  return (
    req.get('x-atlassian-webhook-identifier') !== undefined ||
    (req.get('user-agent') ?? '').includes('JIRA')
  );
}

const page = (status: number, text: string): IngressError =>
  new IngressError(status, text, { shape: 'jiraPage' });

/** The page of a callback that went well; failures are thrown for the error middleware. */
function callbackText(outcome: JiraCallbackOutcome): string {
  switch (outcome.kind) {
    case 'linked':
      return ' Your account has been bridged ';
    case 'disabled':
      throw new IngressError(500, 'JIRA OAuth is disabled.', { errcode: 'HS_DISABLED_FEATURE' });
    case 'missing':
      throw new IngressError(400, `Missing '${outcome.parameter}' parameter`);
    case 'unknownState':
      throw page(404, 'Could not find user which authorised this request. Has it timed out?');
    case 'forbidden':
      throw page(403, 'You are not permitted to log in to JIRA on this bridge.');
    case 'codeRefused':
    case 'exchangeFailed':
      throw page(404, 'Unknown failure');
  }
}

/**
 * JIRA on the `webhooks` listener: deliveries at `/jira/webhook` (and `POST /` when it is
 * JIRA's, as hookshot takes them), the OAuth callback at `/jira/oauth`.
 */
export function jiraRoutes(events: JiraEvents, jira: JiraService, bodyLimit: number): Router {
  const router = Router();
  const raw = express.raw({ type: () => true, limit: bodyLimit });

  router.get('/jira/oauth', answersAs('errcode'), async (req: Request, res: Response) => {
    const text = callbackText(await jira.handleOauthCallback(req.query));
    res.status(200).type('html').send(jiraPage(text));
  });

  const receive = async (req: Request, res: Response): Promise<void> => {
    const querySecret = req.query.secret;
    const outcome = await events.receive({
      body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      signature: req.get('x-hub-signature'),
      querySecret: typeof querySecret === 'string' ? querySecret : undefined,
      deliveryId: req.get('x-atlassian-webhook-identifier'),
    });
    answerEvent(res, outcome, 'JIRA');
  };
  router.post('/jira/webhook', answersAs('errcode'), raw, receive);
  router.post(
    '/',
    (req, _res, next) => next(looksLikeJira(req) ? undefined : 'route'),
    answersAs('errcode'),
    raw,
    receive,
  );
  return router;
}
