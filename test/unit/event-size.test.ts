import {
  contentBudget,
  eventEnvelopeBytes,
  fitMessage,
  MAX_EVENT_BYTES,
  TOO_LARGE_TEXT,
} from '../../src/bridge/event-size';

const bytes = (json: string) => Buffer.byteLength(json);
const ROOM = '!abcdefghijklmnopqrst:example.org';
const BOT = '@hookshot:example.org';

describe('eventEnvelopeBytes', () => {
  it('counts what Synapse measures besides the content, longer for longer ids', () => {
    const short = eventEnvelopeBytes(ROOM, BOT, 'm.room.message');
    // auth and prev events, hashes, a signature, the ids: well over a kilobyte.
    expect(short).toBeGreaterThan(1000);
    expect(short).toBeLessThan(1600);
    const long = eventEnvelopeBytes(`!${'r'.repeat(200)}:example.org`, BOT, 'm.room.message');
    expect(long - short).toBe(200 - 20);
  });

  it('leaves a content budget below the limit by the envelope and a safety margin', () => {
    const budget = contentBudget(ROOM, BOT, 'm.room.message');
    expect(budget).toBeLessThan(MAX_EVENT_BYTES - eventEnvelopeBytes(ROOM, BOT, 'm.room.message'));
    expect(budget).toBeGreaterThan(62_000);
  });
});

describe('fitMessage', () => {
  const budget = 4000;
  const payload = { data: 'p'.repeat(3000) };
  const message = (body: string, html: string) => ({
    msgtype: 'm.notice',
    body,
    format: 'org.matrix.custom.html',
    formatted_body: html,
    'uk.half-shot.hookshot.webhook_data': payload,
  });

  it('when the message fits then it is the JSON text of the content, unchanged', () => {
    const content = message('hello', '<p>hello</p>');
    expect(fitMessage(content, 100_000)).toEqual({ json: JSON.stringify(content), steps: [] });
  });

  it('when the message is a little too large then the metadata (raw payload) goes first', () => {
    const fitted = fitMessage(message('b'.repeat(800), 'h'.repeat(800)), budget);
    expect(fitted.steps).toEqual(['metadata']);
    expect(JSON.parse(fitted.json)).toEqual({
      msgtype: 'm.notice',
      body: 'b'.repeat(800),
      format: 'org.matrix.custom.html',
      formatted_body: 'h'.repeat(800),
    });
  });

  it('when it is still too large then the HTML goes next, and the text is kept whole', () => {
    const fitted = fitMessage(message('b'.repeat(2000), 'h'.repeat(2500)), budget);
    expect(fitted.steps).toEqual(['metadata', 'html']);
    expect(JSON.parse(fitted.json)).toEqual({ msgtype: 'm.notice', body: 'b'.repeat(2000) });
  });

  it('when the text alone is too large then it is cut to fit and says so', () => {
    const fitted = fitMessage(message('b'.repeat(10_000), 'h'), budget);
    expect(fitted.steps).toEqual(['metadata', 'html', 'truncated']);
    expect(bytes(fitted.json)).toBeLessThanOrEqual(budget);
    expect(bytes(fitted.json)).toBeGreaterThan(budget - 10);
    const body = (JSON.parse(fitted.json) as { body: string }).body;
    expect(body.startsWith('bbbb')).toBe(true);
    expect(body.endsWith('(message truncated: it was too large for a Matrix event)')).toBe(true);
  });

  it('when the text is made of characters that take several bytes or escapes then the cut still fits', () => {
    const text = '😀"\n'.repeat(5000);
    const fitted = fitMessage({ msgtype: 'm.notice', body: text }, budget);
    expect(fitted.steps).toEqual(['truncated']);
    expect(bytes(fitted.json)).toBeLessThanOrEqual(budget);
    expect(bytes(fitted.json)).toBeGreaterThan(budget - 12);
    // No half of a surrogate pair is left at the cut.
    expect((JSON.parse(fitted.json) as { body: string }).body).not.toMatch(
      /[\ud800-\udbff](?![\udc00-\udfff])/,
    );
  });

  it('when even an empty text cannot fit then a short notice says the message was too large', () => {
    const mentions = { user_ids: Array.from({ length: 400 }, (_, i) => `@user${i}:example.org`) };
    const fitted = fitMessage({ msgtype: 'm.text', body: 'x', 'm.mentions': mentions }, budget);
    expect(fitted.steps).toEqual(['replaced']);
    expect(JSON.parse(fitted.json)).toEqual({ msgtype: 'm.notice', body: TOO_LARGE_TEXT });
  });
});
