import { timingSafeEqual } from 'node:crypto';
import { signToken, verifyToken } from './token';
import { ThreadPoolPasswordChecker, type PasswordChecker } from './password-checker';

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
/** The cost of bcrypt hashes Switchboard writes; decoys use the admins' own when there are some. */
const DEFAULT_COST = 12;

function bcryptCost(hash: string): number | null {
  const m = /^\$2[abxy]\$(\d\d)\$/.exec(hash);
  return m ? Number(m[1]) : null;
}

/** Management API users: secret or password login, and the tokens they get. */
export class AdminAuthService {
  /** token → user of signatures already checked; tokens never expire, so neither do these. */
  private readonly verified = new Map<string, string>();
  private decoyHash: Promise<string> | undefined;

  constructor(
    private readonly unsharedSecret: string,
    private readonly admins: Readonly<Record<string, string>>,
    private readonly passwords: PasswordChecker = new ThreadPoolPasswordChecker(),
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
    const hash =
      username !== 'root' && Object.hasOwn(this.admins, username) && this.admins[username];
    if (!hash) {
      // A name that cannot log in costs the same comparison as one that can: the answer's
      // timing must not tell which admin names exist.
      await this.passwords.verify(password, await this.decoy());
      return null;
    }
    const ok = await this.passwords.verify(password, hash);
    return ok ? signToken(this.unsharedSecret, username) : null;
  }

  /** Made once, at the highest cost among the admins' hashes. */
  private decoy(): Promise<string> {
    if (this.decoyHash === undefined) {
      const costs = Object.values(this.admins)
        .map(bcryptCost)
        .filter((c) => c !== null);
      this.decoyHash = this.passwords.decoy(costs.length ? Math.max(...costs) : DEFAULT_COST);
    }
    return this.decoyHash;
  }
}
