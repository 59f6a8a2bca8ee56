import { createHash } from 'node:crypto';
import { parseFeedText } from '../../src/feeds/feed-parse';
import {
  FeedError,
  INLINE_PARSE_MAX_CHARS,
  MAX_FEED_BYTES,
  readFeed,
} from '../../src/feeds/feed-reader';
import { atom, FeedServer, rss } from '../fakes/feed-server';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const OPTS = { timeoutMs: 2000, allowPrivate: true };

describe('readFeed', () => {
  let server: FeedServer;

  beforeAll(async () => {
    server = await new FeedServer().start();
  });
  afterAll(async () => {
    await server.close();
  });

  it('when the URL serves RSS 2.0 then its title and items are read, ids hashed from the guid', async () => {
    const url = server.serve('/rss', {
      body: rss('Blog', [
        {
          id: 'post-2',
          title: 'Second & last',
          link: '/posts/2',
          date: 'Tue, 01 Dec 2026 10:00:00 GMT',
          author: 'al@example.org (Al)',
          summary: '<p>Hello</p>',
        },
        { title: 'No guid', link: 'https://example.org/1' },
        { title: 'Only a title' },
      ]),
      etag: '"v1"',
      lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT',
    });
    const result = await readFeed(url, OPTS);
    expect(result).toEqual({
      status: 'ok',
      etag: '"v1"',
      lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT',
      feed: {
        title: 'Blog',
        items: [
          {
            id: md5('post-2'),
            title: 'Second & last',
            // Resolved against the channel link, as feed readers do.
            link: 'https://example.org/posts/2',
            author: 'Al',
            date: new Date('2026-12-01T10:00:00Z'),
            summary: '<p>Hello</p>',
          },
          {
            id: md5('https://example.org/1'),
            title: 'No guid',
            link: 'https://example.org/1',
            author: null,
            date: null,
            summary: null,
          },
          {
            id: md5('Only a title'),
            title: 'Only a title',
            link: null,
            author: null,
            date: null,
            summary: null,
          },
        ],
      },
    });
  });

  it('when the URL serves Atom then entries are read with their id, link, author and summary', async () => {
    const url = server.serve('/atom', {
      contentType: 'application/atom+xml',
      body: atom('Atom log', [
        {
          id: 'urn:entry:1',
          title: 'Entry',
          link: 'https://example.org/e/1',
          date: '2026-12-01T09:30:00Z',
          author: 'Bea',
          summary: '<b>bold</b>',
        },
      ]),
    });
    const result = await readFeed(url, OPTS);
    expect(result).toEqual({
      status: 'ok',
      etag: null,
      lastModified: null,
      feed: {
        title: 'Atom log',
        items: [
          {
            id: md5('urn:entry:1'),
            title: 'Entry',
            link: 'https://example.org/e/1',
            author: 'Bea',
            date: new Date('2026-12-01T09:30:00Z'),
            summary: '<b>bold</b>',
          },
        ],
      },
    });
  });

  it('when the validators match then the answer is not-modified and both were sent', async () => {
    const url = server.serve('/etag', { body: rss('E', []), etag: '"abc"' });
    expect(await readFeed(url, { ...OPTS, etag: '"abc"' })).toEqual({ status: 'not-modified' });
    const lm = 'Mon, 30 Nov 2026 08:00:00 GMT';
    const url2 = server.serve('/lm', { body: rss('L', []), lastModified: lm });
    expect(await readFeed(url2, { ...OPTS, lastModified: lm })).toEqual({
      status: 'not-modified',
    });
    const sent = server.requests.filter((r) => r.path === '/lm').at(-1)!;
    expect(sent.headers['if-modified-since']).toBe(lm);
    expect((await readFeed(url, { ...OPTS, etag: '"old"' })).status).toBe('ok');
  });

  it('when the server answers an error status then the reason names it', async () => {
    const url = server.serve('/gone', { status: 410, body: 'gone' });
    await expect(readFeed(url, OPTS)).rejects.toThrow(new FeedError('HTTP 410 Gone'));
    await expect(readFeed(`${server.baseUrl}/missing`, OPTS)).rejects.toThrow('HTTP 404 Not Found');
  });

  it('when the server is too slow then the read fails with a timeout', async () => {
    const url = server.serve('/slow', { body: rss('S', []), delayMs: 1500 });
    const started = Date.now();
    await expect(readFeed(url, { ...OPTS, timeoutMs: 300 })).rejects.toThrow(
      new FeedError('timed out after 0.3 s'),
    );
    expect(Date.now() - started).toBeLessThan(1400);
  });

  it('when the body is not a feed then it is refused as such', async () => {
    const url = server.serve('/html', { contentType: 'text/html', body: '<html><p>hi</p></html>' });
    await expect(readFeed(url, OPTS)).rejects.toThrow(
      new FeedError('the document is not an RSS or Atom feed'),
    );
    const junk = server.serve('/junk', { body: Buffer.from([0, 1, 2, 255, 254]) });
    await expect(readFeed(junk, OPTS)).rejects.toThrow('the document is not an RSS or Atom feed');
  });

  describe('a feed bigger than the main thread parses', () => {
    // 400 items of about 1 KiB: over the inline limit.
    const big = rss(
      'Big',
      Array.from({ length: 400 }, (_, i) => ({
        id: `post-${i}`,
        title: `Post ${i}`,
        link: `/posts/${i}`,
        date: 'Tue, 01 Dec 2026 10:00:00 GMT',
        summary: `<p>${'words '.repeat(160)}</p>`,
      })),
    );

    it('when it is valid then a worker reads the same items as the main thread would', async () => {
      expect(big.length).toBeGreaterThan(INLINE_PARSE_MAX_CHARS);
      const url = server.serve('/big-feed', { body: big });
      const result = await readFeed(url, OPTS);
      expect(result).toEqual({
        status: 'ok',
        etag: null,
        lastModified: null,
        feed: parseFeedText(big, url),
      });
      if (result.status !== 'ok') throw new Error('not read');
      expect(result.feed.items).toHaveLength(400);
      expect(result.feed.items[0]!.date).toEqual(new Date('2026-12-01T10:00:00Z'));
    });

    it('when the worker does not finish in time then the read fails saying so', async () => {
      const url = server.serve('/big-slow', { body: big });
      await expect(readFeed(url, { ...OPTS, parseTimeoutMs: 1 })).rejects.toThrow(
        new FeedError('parsing took longer than 0.001 s'),
      );
      // A small feed is parsed at once, whatever the worker's time.
      const small = server.serve('/small', { body: rss('S', [{ id: 'a', title: 'A' }]) });
      expect((await readFeed(small, { ...OPTS, parseTimeoutMs: 1 })).status).toBe('ok');
    });

    it('when it has 20,000 items without authors then all are read within the parse time', async () => {
      // The feed's own URL and authors, which each item falls back to, are looked up once: per
      // item they scanned the whole channel (minutes for this feed, far over the 10 s limit).
      const many = rss(
        'Many',
        Array.from({ length: 20_000 }, (_, i) => ({ title: `t${i}`, link: `/p/${i}` })),
      );
      const url = server.serve('/many', { body: many });
      const result = await readFeed(url, OPTS);
      if (result.status !== 'ok') throw new Error('not read');
      expect(result.feed.items).toHaveLength(20_000);
      expect(result.feed.items[19_999]).toMatchObject({
        title: 't19999',
        link: 'https://example.org/p/19999',
        author: null,
      });
    }, 30_000);

    it('when it is not a feed then it is refused as such', async () => {
      const url = server.serve('/big-html', {
        contentType: 'text/html',
        body: `<html>${'<p>hi</p>'.repeat(INLINE_PARSE_MAX_CHARS / 8)}</html>`,
      });
      await expect(readFeed(url, OPTS)).rejects.toThrow(
        new FeedError('the document is not an RSS or Atom feed'),
      );
    });
  });

  it('when the body is larger than the cap then it is refused', async () => {
    const url = server.serve('/big', { body: Buffer.alloc(MAX_FEED_BYTES + 1, 0x20) });
    await expect(readFeed(url, OPTS)).rejects.toThrow(
      new FeedError('the feed is larger than 10 MB'),
    );
  });

  it('when the destination is loopback and private ones are not allowed then it is refused', async () => {
    const url = server.serve('/private', { body: rss('P', []) });
    const before = server.count('/private');
    await expect(readFeed(url, { ...OPTS, allowPrivate: false })).rejects.toThrow(
      new FeedError('127.0.0.1 is not a public address'),
    );
    expect(server.count('/private')).toBe(before);
  });

  it('when nothing listens then the reason says the connection failed', async () => {
    const other = await new FeedServer().start();
    const url = `${other.baseUrl}/x`;
    await other.close();
    await expect(readFeed(url, OPTS)).rejects.toThrow(
      new FeedError('could not connect (ECONNREFUSED)'),
    );
  });

  it('when the feed declares a Latin-1 encoding then its text is decoded from it', async () => {
    const xml = `<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>Caf\xe9</title><item><title>cr\xe8me</title><guid>1</guid></item></channel></rss>`;
    const url = server.serve('/latin1', {
      contentType: 'application/rss+xml',
      body: Buffer.from(xml, 'latin1'),
    });
    const result = await readFeed(url, OPTS);
    expect(result.status === 'ok' && result.feed.title).toBe('Café');
    expect(result.status === 'ok' && result.feed.items[0]?.title).toBe('crème');
  });
});
