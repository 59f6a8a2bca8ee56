import {
  MAX_MARKDOWN_CHARS,
  sanitiseWebhookData,
  webhookMessage,
} from '../../src/webhooks/webhook-message';

describe('webhookMessage', () => {
  it('when the payload is a string then it is the reference notice for "Hello world"', () => {
    expect(webhookMessage('Hello world')).toEqual({
      msgtype: 'm.notice',
      body: 'Received webhook data: Hello world',
      formatted_body: '<p>Received webhook data: Hello world</p>',
      format: 'org.matrix.custom.html',
      'uk.half-shot.hookshot.webhook_data': 'Hello world',
    });
  });

  it('when the object has a string text then it is the body, rendered as markdown', () => {
    expect(webhookMessage({ text: 'Build **passed** <b>x</b>' })).toEqual({
      msgtype: 'm.notice',
      body: 'Build **passed** <b>x</b>',
      formatted_body: '<p>Build <strong>passed</strong> &lt;b&gt;x&lt;/b&gt;</p>',
      format: 'org.matrix.custom.html',
      'uk.half-shot.hookshot.webhook_data': { text: 'Build **passed** <b>x</b>' },
    });
  });

  it('when the object has no text then it is pretty JSON in a code block, HTML-escaped', () => {
    const payload = { a: '<tag>', n: 1 };
    const json = '{\n  "a": "<tag>",\n  "n": 1\n}';
    expect(webhookMessage(payload)).toEqual({
      msgtype: 'm.notice',
      body: `Received webhook data:\n\n\`\`\`json\n${json}\n\`\`\``,
      formatted_body:
        '<p>Received webhook data:</p><pre><code class="language-json">' +
        '{\n  &quot;a&quot;: &quot;&lt;tag&gt;&quot;,\n  &quot;n&quot;: 1\n}\n</code></pre>',
      format: 'org.matrix.custom.html',
      'uk.half-shot.hookshot.webhook_data': payload,
    });
  });

  it('when html is given then it overrides the rendered HTML', () => {
    const content = webhookMessage({ text: 'plain', html: '<em>rich</em>' });
    expect(content.body).toBe('plain');
    expect(content.formatted_body).toBe('<em>rich</em>');
  });

  it('when username is given then plain and html get it as a prefix', () => {
    expect(webhookMessage({ text: 'hi', username: 'ci' })).toMatchObject({
      body: '**ci**: hi',
      formatted_body: '<p><strong>ci</strong>: hi</p>',
    });
    expect(webhookMessage({ text: 'hi', html: '<p>hi</p>', username: '<ci>' })).toMatchObject({
      body: '**<ci>**: hi',
      formatted_body: '<strong>&lt;ci&gt;</strong>: <p>hi</p>',
    });
  });
});

describe('webhookMessage with hostile text', () => {
  const MB = 1024 * 1024;
  // Each of these took markdown-it from 0.3 to 2 s a megabyte on the main thread.
  it.each([
    ['nested brackets', '['.repeat(MB)],
    ['nested quotes', '>'.repeat(MB)],
    ['emphasis', '*_'.repeat(MB / 2)],
    ['images', '![a'.repeat(MB / 3)],
  ])('when the text is a megabyte of %s then it is sent as it is, without HTML', (_name, text) => {
    const content = webhookMessage({ text });
    expect(content).toEqual({
      msgtype: 'm.notice',
      body: text,
      'uk.half-shot.hookshot.webhook_data': { text },
    });
  });

  it('when the text is at the limit then it is rendered; one character more and it is not', () => {
    const at = 'a'.repeat(MAX_MARKDOWN_CHARS);
    expect(webhookMessage({ text: at }).formatted_body).toBe(`<p>${at}</p>`);
    const over = webhookMessage({ text: `${at}a` });
    expect(over.formatted_body).toBeUndefined();
    expect(over.format).toBeUndefined();
  });

  it('when HTML is given with a long text then the given HTML is kept', () => {
    const content = webhookMessage({ text: '['.repeat(MB), html: '<b>short</b>' });
    expect(content.formatted_body).toBe('<b>short</b>');
  });
});

describe('sanitiseWebhookData', () => {
  it('when numbers are floats then they become strings and integers stay', () => {
    expect(
      sanitiseWebhookData({ f: 1.5, i: 2, list: [0.25, 3], s: 'x', b: true, z: null }),
    ).toEqual({ f: '1.5', i: 2, list: ['0.25', 3], s: 'x', b: true, z: null });
  });

  it('when a value is more than 10 levels deep then it is kept as JSON text', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 11; i++) deep = { d: deep };
    let node = sanitiseWebhookData(deep) as Record<string, unknown>;
    for (let i = 0; i < 10; i++) node = node.d as Record<string, unknown>;
    expect(node.d).toBe('{"leaf":1}');
  });

  it('when an object has more than 50 entries then it is kept as JSON text', () => {
    const wide = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    expect(sanitiseWebhookData({ wide, fifty })).toEqual({ wide: JSON.stringify(wide), fifty });
  });
});
