import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { parseStringPromise } from 'xml2js';
import type { WebhookResponse } from '../../../webhooks/transformation';
import type { DeliveryOutcome, WebhookDelivery } from '../../../webhooks/webhook-delivery';
import { answersAs } from '../error-middleware';
import { IngressError } from '../errors';

/** Retry-After of the 503 a sender gets while Switchboard sheds load. */
const BUSY_RETRY_AFTER_S = 5;
/**
 * Sent with a transformation's own answer: it is written by whoever edits the hook, and served
 * on this listener's origin, so browsers must neither sniff it into a page nor run anything.
 */
const TRANSFORMATION_RESPONSE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "sandbox; default-src 'none'",
};

const JSON_TYPES = ['application/json', 'application/*+json'];
const FORM_TYPES = ['application/x-www-form-urlencoded'];
// XML goes first, so text/xml is parsed as XML rather than taken as text (as hookshot does).
const XML_TYPES = ['*/xml', '*/*+xml'];
const TEXT_TYPES = ['text/*'];

/**
 * XML bodies parsed into objects as hookshot parses them (xml2js with its defaults: elements
 * as arrays, attributes under `$`, text beside attributes under `_`), so transformation
 * functions written for hookshot see the same data.
 */
function xmlParser(limit: number): RequestHandler[] {
  return [
    express.text({ limit, type: XML_TYPES }),
    (req, _res, next) => {
      if (typeof req.body !== 'string' || !req.is(XML_TYPES)) {
        next();
        return;
      }
      parseStringPromise(req.body).then(
        (parsed: unknown) => {
          // An empty document is no body at all.
          req.body = parsed ?? {};
          next();
        },
        () => next(Object.assign(new Error('invalid XML'), { type: 'entity.parse.failed' })),
      );
    },
  ];
}

const BUSY_TEXT = {
  messages: 'Too many messages are waiting to be sent; try again later',
  transformations: 'Too many transformations are waiting; try again later',
};

/** The answer of an outcome; refusals are thrown for the error middleware to render. */
function answer(res: Response, outcome: DeliveryOutcome): void {
  switch (outcome.kind) {
    case 'accepted':
      res.status(202).json({ ok: true });
      return;
    case 'delivered':
      if (outcome.response) sendTransformationResponse(res, outcome.response);
      else res.status(200).json({ ok: true });
      return;
    case 'notFound':
      throw new IngressError(404, 'Webhook not found');
    case 'expired':
      throw new IngressError(404, 'This hook has expired');
    case 'busy':
      throw new IngressError(503, BUSY_TEXT[outcome.waiting], {
        headers: { 'Retry-After': String(BUSY_RETRY_AFTER_S) },
        logLevel: 'warn',
      });
    case 'transformFailed':
      // The hook's own function failed (hookshot's 500); the delivery logged why.
      throw new IngressError(500, 'Failed to process webhook', { logLevel: 'info' });
    case 'sendFailed':
      throw new IngressError(500, 'Failed to handle webhook');
    case 'tooDeep':
      throw new IngressError(400, `Body nests deeper than ${outcome.limit} levels`);
  }
}

function sendTransformationResponse(res: Response, response: WebhookResponse): void {
  res
    .status(response.statusCode ?? 200)
    .set(TRANSFORMATION_RESPONSE_HEADERS)
    .type(response.contentType ?? 'application/json')
    .send(response.body);
}

const methodNotAllowed = (expecting: string, allow: string): IngressError =>
  new IngressError(405, `Invalid Method. Expecting ${expecting}`, {
    shape: 'errcode',
    headers: { Allow: allow },
  });

/** Generic webhooks at /webhook/:hookId. */
export function webhookRoutes(delivery: WebhookDelivery, bodyLimit: number): Router {
  const router = Router();
  const limit = bodyLimit;
  const parsers = [
    ...xmlParser(limit),
    express.json({ limit, strict: false, type: JSON_TYPES }),
    express.urlencoded({ limit, extended: false, type: FORM_TYPES }),
    express.text({ limit, type: TEXT_TYPES }),
  ];
  const deliver = async (req: Request<{ hookId: string }>, res: Response, payload: unknown) => {
    answer(res, await delivery.deliver(req.params.hookId, payload));
  };

  router.all(
    '/webhook/:hookId',
    answersAs('hook', limit),
    async (req: Request<{ hookId: string }>, res, next) => {
      if (req.method === 'PUT' || req.method === 'POST') return next();
      if (req.method !== 'GET') {
        // HEAD is not served: it would deliver the hook's query as GET does, without an answer.
        throw methodNotAllowed(
          'PUT, GET or POST',
          delivery.acceptsGet ? 'GET, PUT, POST' : 'PUT, POST',
        );
      }
      if (!delivery.acceptsGet) throw methodNotAllowed('PUT or POST', 'PUT, POST');
      await deliver(req, res, { ...req.query });
    },
  );
  router.all('/webhook/:hookId', ...parsers, async (req: Request<{ hookId: string }>, res) => {
    // A body of a type no parser takes is left undecoded, as hookshot does.
    await deliver(req, res, req.body === undefined ? {} : (req.body as unknown));
  });
  return router;
}
