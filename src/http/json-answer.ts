import type { Response } from 'express';
import type { JsonAnswer } from '../util/json-memo';

/**
 * Sends a remembered answer. The first time an answer object is sent it goes through
 * `res.json`, so the response validator checks it against the contract; once it was sent
 * successfully, the same object is sent as its JSON text without being checked again.
 */
export function jsonAnswerSender() {
  const checked = new WeakMap<JsonAnswer<unknown>, Buffer>();
  // Typed by the answer, so a handler's declared body still has to match it.
  return <V>(typed: Response<V>, answer: JsonAnswer<V>): void => {
    const res = typed as Response;
    const bytes = checked.get(answer);
    if (bytes) {
      // Encoded once: large lists cost no more per request than their bytes on the socket.
      res.set('Content-Type', 'application/json; charset=utf-8').send(bytes);
      return;
    }
    res.once('finish', () => {
      if (res.statusCode === 200) checked.set(answer, Buffer.from(answer.json));
    });
    // A copy: the validator may change what it checks.
    res.json(JSON.parse(answer.json));
  };
}
