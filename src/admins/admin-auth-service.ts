import { timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { signToken, verifyToken } from '../api/maubot/token';

export interface LoginRequest {
  secret?: unknown;
  user?: unknown;
  username?: unknown;
  password?: unknown;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

const VERIFIED_CACHE_SIZE = 1000;

/** Management API users: secret or password login, and the tokens they get. */
export class AdminAuthService {
  /** token → user of signatures already checked; tokens never expire, so neither do these. */
  private readonly verified = new Map<string, string>();

  constructor(
    private readonly unsharedSecret: string,
    private readonly admins: Readonly<Record<string, string>>,
  ) {}

  /** root is always an admin; other names must be listed in config. */
  isAdmin(userId: string): boolean {
    return userId === 'root' || Object.hasOwn(this.admins, userId);
  }

  /** The admin a token belongs to, or null when it is forged or its user is no admin. */
  userForToken(token: string): string | null {
    let userId = this.verified.get(token) ?? null;
    if (userId === null) {
      userId = verifyToken(this.unsharedSecret, token);
      if (userId === null) return null;
      if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.clear();
      this.verified.set(token, userId);
    }
    return this.isAdmin(userId) ? userId : null;
  }

  /** A token for valid credentials, else null. Secret login may name any user, as maubot. */
  async login(body: LoginRequest): Promise<string | null> {
    if (typeof body.secret === 'string' && body.secret !== '') {
      if (sameSecret(body.secret, this.unsharedSecret)) {
        const user = typeof body.user === 'string' && body.user !== '' ? body.user : 'root';
        return signToken(this.unsharedSecret, user);
      }
    }
    const { username, password } = body;
    if (typeof username !== 'string' || typeof password !== 'string') return null;
    if (username === 'root' || !Object.hasOwn(this.admins, username)) return null;
    const hash = this.admins[username];
    if (!hash) return null;
    return (await bcrypt.compare(password, hash)) ? signToken(this.unsharedSecret, username) : null;
  }
}
