import type { FeedItem } from '../../src/feeds/feed-reader';
import {
  FEED_ITEM_KEY,
  FIELD_MAX_CHARS,
  LINK_MAX_CHARS,
  SUMMARY_SOURCE_MAX_CHARS,
  feedMessage,
  summaryHtml,
  summaryText,
} from '../../src/feeds/feed-template';

const FEED = { url: 'https://example.org/feed.xml', title: 'Example Blog' };

function item(overrides: Partial<FeedItem> = {}): FeedItem {
  return {
    id: 'abc',
    title: 'Hello world',
    link: 'https://example.org/posts/1',
    author: 'Al',
    date: new Date('2026-12-01T10:00:00Z'),
    summary: '<p>First <b>post</b></p>',
    ...overrides,
  };
}

describe('feedMessage', () => {
  it('when there is a link then the default says "New post in" the feed title with the link', () => {
    expect(feedMessage(FEED, item())).toEqual({
      msgtype: 'm.notice',
      body: 'New post in Example Blog: [Hello world](https://example.org/posts/1)',
      format: 'org.matrix.custom.html',
      formatted_body:
        'New post in Example Blog: <a href="https://example.org/posts/1">Hello world</a>',
      external_url: 'https://example.org/posts/1',
      [FEED_ITEM_KEY]: {
        feed: { title: 'Example Blog', url: 'https://example.org/feed.xml' },
        title: 'Hello world',
        link: 'https://example.org/posts/1',
        author: 'Al',
        pubdate: 'Tue, 01 Dec 2026 10:00:00 GMT',
        summary: '<p>First <b>post</b></p>',
      },
    });
  });

  it('when there is no link then the default uses the title, and the label names the feed', () => {
    const content = feedMessage({ ...FEED, label: 'News' }, item({ link: null }));
    expect(content.body).toBe('New post in News: Hello world');
    expect(content.formatted_body).toBe('New post in News: Hello world');
    expect(content).not.toHaveProperty('external_url');
  });

  it('when there is neither link nor title then the default names only the feed (URL without a title)', () => {
    const content = feedMessage({ ...FEED, title: null }, item({ link: null, title: null }));
    expect(content.body).toBe('New post in https://example.org/feed.xml');
  });

  it('when a template is given then every token is filled in and unknown ones stay', () => {
    const template =
      '$FEEDNAME|$FEEDURL|$FEEDTITLE|$TITLE|$LINK|$URL|$AUTHOR|$DATE|$SUMMARY|$OTHER';
    const content = feedMessage({ ...FEED, label: 'L' }, item(), template);
    expect(content.body).toBe(
      'L|https://example.org/feed.xml|Example Blog|Hello world|[Hello world](https://example.org/posts/1)|https://example.org/posts/1|Al|Tue, 01 Dec 2026 10:00:00 GMT|First post|$OTHER',
    );
    expect(content.formatted_body).toBe(
      'L|https://example.org/feed.xml|Example Blog|Hello world|<a href="https://example.org/posts/1">Hello world</a>|https://example.org/posts/1|Al|Tue, 01 Dec 2026 10:00:00 GMT|<p>First <b>post</b></p>|$OTHER',
    );
  });

  it('when the template uses markdown then the HTML renders it', () => {
    const content = feedMessage(FEED, item(), '**$TITLE** by _$AUTHOR_');
    expect(content.body).toBe('**Hello world** by _Al_');
    expect(content.formatted_body).toBe('<strong>Hello world</strong> by <em>Al</em>');
  });

  it('when feed text carries scripts or handlers then the HTML has none of them', () => {
    const content = feedMessage(
      FEED,
      item({
        title: 'Bad <img src=x onerror=alert(1)>',
        summary:
          '<p onclick="x()">Hi<script>alert(1)</script> <a href="javascript:alert(1)">me</a></p>',
      }),
      '$TITLE $SUMMARY',
    );
    expect(content.formatted_body).toBe('Bad  <p>Hi <a>me</a></p>');
    expect(content.body).toBe('Bad <img src=x onerror=alert(1)> Hi me');
  });

  it('when a title holds brackets then the link text is escaped and stays one link', () => {
    const content = feedMessage(FEED, item({ title: 'A [b] c', link: 'https://e.org/a (1)' }));
    expect(content.formatted_body).toBe(
      'New post in Example Blog: <a href="https://e.org/a%20(1)">A [b] c</a>',
    );
  });
});

describe('summaries', () => {
  it('when a summary is longer than 512 characters then both forms are cut to 512', () => {
    const long = `<p>${'word '.repeat(200)}</p>`;
    const html = summaryHtml(long);
    expect(html.length).toBeLessThanOrEqual(512 + '</p>'.length);
    expect(html.startsWith('<p>word word')).toBe(true);
    expect(html.endsWith('</p>')).toBe(true);
    expect(summaryText(long)).toHaveLength(512);
  });

  it('when the cut falls inside a tag then no half tag remains', () => {
    const raw = `${'x'.repeat(505)}<a href="https://example.org/long">link</a>`;
    expect(summaryHtml(raw)).toBe('x'.repeat(505));
  });

  it('when the summary has entities and paragraphs then the text decodes them and keeps breaks', () => {
    expect(summaryText('<p>Fish &amp; chips</p><p>2 &lt; 3</p>')).toBe('Fish & chips\n2 < 3');
  });
});

describe('hostile feed text', () => {
  it('when a summary hides its text behind more than 16 KiB of markup then only the first 16 KiB are read', () => {
    const markup = '<div>'.repeat(Math.ceil(SUMMARY_SOURCE_MAX_CHARS / 5));
    expect(summaryText(`${markup}visible`)).toBe('');
    expect(summaryHtml(`${markup}visible`)).not.toContain('visible');
    // Just inside the limit the text is found.
    const inside = '<div>'.repeat(Math.floor(SUMMARY_SOURCE_MAX_CHARS / 5) - 2);
    expect(summaryText(`${inside}visible`)).toBe('visible');
  });

  it('when a title, an author and the feed title are huge then each is cut to 512 characters with an ellipsis', () => {
    const huge = (c: string) => c.repeat(100_000);
    const message = feedMessage(
      { ...FEED, title: huge('F') },
      item({ title: huge('*_'), author: huge('A'), link: null }),
      '$TITLE by $AUTHOR in $FEEDTITLE',
    );
    const title = `${'*_'.repeat(FIELD_MAX_CHARS).slice(0, FIELD_MAX_CHARS - 1)}…`;
    const author = `${'A'.repeat(FIELD_MAX_CHARS - 1)}…`;
    const feedTitle = `${'F'.repeat(FIELD_MAX_CHARS - 1)}…`;
    expect(message.body).toBe(`${title} by ${author} in ${feedTitle}`);
    expect((message.formatted_body as string).length).toBeLessThan(8 * FIELD_MAX_CHARS);
    expect(message[FEED_ITEM_KEY]).toMatchObject({
      feed: { title: feedTitle },
      title,
      author,
    });
  });

  it('when a link is longer than 2 KiB then the message has no link, as for an item without one', () => {
    const link = `https://example.org/${'a'.repeat(LINK_MAX_CHARS)}`;
    const message = feedMessage(FEED, item({ link }));
    expect(message.body).toBe('New post in Example Blog: Hello world');
    expect(message.external_url).toBeUndefined();
    expect(message[FEED_ITEM_KEY]).toMatchObject({ link: null });
    const short = `https://example.org/${'a'.repeat(LINK_MAX_CHARS - 'https://example.org/'.length)}`;
    expect(feedMessage(FEED, item({ link: short })).external_url).toBe(short);
  });
});
