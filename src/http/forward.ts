import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Request, Response } from 'express';

export interface ForwardTarget {
  url: URL;
  headers: IncomingHttpHeaders;
}

/** No answer from the target (refused, reset, timeout); nothing was sent to the caller yet. */
export class ForwardFailedError extends Error {
  override name = 'ForwardFailedError';
}

const FORWARD_TIMEOUT_MS = 60_000;

/**
 * Streams the request's body to the target and the target's answer (status, headers, body)
 * back unchanged, without buffering either.
 */
export function forward(req: Request, res: Response, target: ForwardTarget): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const send = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const upstream = send(target.url, {
      method: req.method,
      headers: target.headers,
      timeout: FORWARD_TIMEOUT_MS,
    });
    upstream.on('timeout', () => upstream.destroy(new Error('the homeserver did not answer')));
    upstream.on('error', (err) => {
      if (res.headersSent) {
        res.destroy(err);
        resolve();
      } else {
        reject(new ForwardFailedError(err.message));
      }
    });
    upstream.on('response', (answer) => {
      res.status(answer.statusCode ?? 502);
      for (let i = 0; i < answer.rawHeaders.length; i += 2) {
        const name = answer.rawHeaders[i]!;
        if (/^(connection|keep-alive|transfer-encoding)$/i.test(name)) continue;
        res.append(name, answer.rawHeaders[i + 1]);
      }
      answer.pipe(res);
      answer.on('end', () => resolve());
      answer.on('error', (err) => {
        res.destroy(err);
        resolve();
      });
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
}
