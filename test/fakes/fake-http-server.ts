import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the fake servers share: a real HTTP server on a loopback port, a handler that may be
 * async (a failure answers 500 with the error, so a test sees it), and a clean close.
 */
export abstract class FakeHttpServer {
  /** `http://127.0.0.1:<port>` once started. */
  url = '';
  private readonly server: Server = createServer((req, res) => {
    Promise.resolve(this.handle(req, res)).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(err));
    });
  });

  protected abstract handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A request's whole body as text. */
export async function bodyText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The OAuth grants a fake provider hands out: codes, access tokens and refresh tokens. */
export class FakeGrants {
  readonly codes = new Map<string, string>();
  readonly accessTokens = new Map<string, { user: string; expiresAt: number }>();
  readonly refreshTokens = new Map<string, string>();

  /** What the user's consent on the provider's page produces: a code for the redirect. */
  authorize(user: string): string {
    const code = `code-${randomBytes(8).toString('hex')}`;
    this.codes.set(code, user);
    return code;
  }

  /** A new access and refresh token for the user (prefixed as the provider's are). */
  issue(
    user: string,
    expiresInS: number,
    prefix = { access: 'at-', refresh: 'rt-' },
  ): { access: string; refresh: string } {
    const access = `${prefix.access}${randomBytes(16).toString('hex')}`;
    const refresh = `${prefix.refresh}${randomBytes(16).toString('hex')}`;
    this.accessTokens.set(access, { user, expiresAt: Date.now() + expiresInS * 1000 });
    this.refreshTokens.set(refresh, user);
    return { access, refresh };
  }

  /** Every access and refresh token handed out so far. */
  issued(): string[] {
    return [...this.accessTokens.keys(), ...this.refreshTokens.keys()];
  }

  /** The user of an unexpired access token. */
  userOf(token: string | undefined): string | undefined {
    const grant = token === undefined ? undefined : this.accessTokens.get(token);
    return grant && grant.expiresAt > Date.now() ? grant.user : undefined;
  }
}
