import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { FakeHttpServer } from './fake-http-server';

export interface FeedResponse {
  body: string | Buffer;
  status?: number;
  contentType?: string;
  etag?: string;
  lastModified?: string;
  /** Wait this long before answering. */
  delayMs?: number;
}

/** A local HTTP server serving feeds, answering 304 to matching validators, counting requests. */
export class FeedServer extends FakeHttpServer {
  private readonly routes = new Map<string, FeedResponse>();
  readonly requests: { path: string; headers: IncomingHttpHeaders }[] = [];

  get baseUrl(): string {
    return this.url;
  }

  protected handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    this.requests.push({ path, headers: req.headers });
    const route = this.routes.get(path);
    const answer = () => {
      if (!route) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no such feed');
        return;
      }
      const headers: Record<string, string> = {
        'content-type': route.contentType ?? 'application/rss+xml; charset=utf-8',
      };
      if (route.etag) headers.etag = route.etag;
      if (route.lastModified) headers['last-modified'] = route.lastModified;
      const unchanged =
        (route.etag !== undefined && req.headers['if-none-match'] === route.etag) ||
        (route.etag === undefined &&
          route.lastModified !== undefined &&
          req.headers['if-modified-since'] === route.lastModified);
      if (unchanged) {
        res.writeHead(304, headers).end();
        return;
      }
      res.writeHead(route.status ?? 200, headers).end(route.body);
    };
    if (route?.delayMs) setTimeout(answer, route.delayMs).unref();
    else answer();
  }

  serve(path: string, response: FeedResponse): string {
    this.routes.set(path, response);
    return `${this.baseUrl}${path}`;
  }

  count(path: string): number {
    return this.requests.filter((r) => r.path === path).length;
  }
}

export interface TestItem {
  id?: string;
  title?: string;
  link?: string;
  date?: string;
  summary?: string;
  author?: string;
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function rss(title: string, items: TestItem[]): string {
  const entries = items
    .map(
      (i) =>
        `<item>${i.title !== undefined ? `<title>${esc(i.title)}</title>` : ''}` +
        `${i.link !== undefined ? `<link>${esc(i.link)}</link>` : ''}` +
        `${i.id !== undefined ? `<guid isPermaLink="false">${esc(i.id)}</guid>` : ''}` +
        `${i.date !== undefined ? `<pubDate>${i.date}</pubDate>` : ''}` +
        `${i.author !== undefined ? `<author>${esc(i.author)}</author>` : ''}` +
        `${i.summary !== undefined ? `<description>${esc(i.summary)}</description>` : ''}</item>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>${esc(title)}</title><link>https://example.org/</link>${entries}</channel></rss>`;
}

export function atom(title: string, items: TestItem[]): string {
  const entries = items
    .map(
      (i) =>
        `<entry>${i.id !== undefined ? `<id>${esc(i.id)}</id>` : ''}` +
        `${i.title !== undefined ? `<title>${esc(i.title)}</title>` : ''}` +
        `${i.link !== undefined ? `<link href="${esc(i.link)}"/>` : ''}` +
        `${i.date !== undefined ? `<updated>${i.date}</updated>` : ''}` +
        `${i.author !== undefined ? `<author><name>${esc(i.author)}</name></author>` : ''}` +
        `${i.summary !== undefined ? `<summary type="html">${esc(i.summary)}</summary>` : ''}</entry>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>${esc(title)}</title><id>urn:test</id><updated>2026-12-01T00:00:00Z</updated>${entries}</feed>`;
}
