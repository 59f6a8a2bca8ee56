import type { Response } from 'express';
import type { EventOutcome } from '../../../bridge/signed-events';
import { IngressError } from '../errors';

/** GitHub's and JIRA's deliveries are answered alike: "OK", or a refusal with hookshot's errcode. */
export function answerEvent(res: Response, outcome: EventOutcome, service: string): void {
  switch (outcome.kind) {
    case 'accepted':
    case 'redelivered':
      res.status(200).type('text/plain').send('OK');
      return;
    case 'unauthenticated':
      throw new IngressError(
        401,
        outcome.reason === 'badSecret' ? 'Invalid secret' : 'Signature did not match',
      );
    case 'malformed':
      throw new IngressError(400, outcome.message);
    case 'notConfigured':
      throw new IngressError(404, `${service} is not configured`);
  }
}
