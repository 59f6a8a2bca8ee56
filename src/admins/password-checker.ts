import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/bcrypt';

/** Compares passwords with bcrypt hashes. */
export interface PasswordChecker {
  verify(password: string, hash: string): Promise<boolean>;
  /** A hash of a random password at `cost`: what unknown names are checked against. */
  decoy(cost: number): Promise<string>;
}

/**
 * bcrypt on libuv's thread pool, never on the event loop. At most `parallel` comparisons run at
 * once (the rest wait in line), so a burst of logins leaves the pool's other threads to file
 * and DNS work.
 */
export class ThreadPoolPasswordChecker implements PasswordChecker {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly parallel = 2) {}

  async verify(password: string, digest: string): Promise<boolean> {
    return this.inTurn(() => verify(password, digest).catch(() => false));
  }

  decoy(cost: number): Promise<string> {
    return this.inTurn(() => hash(randomBytes(18).toString('base64'), cost));
  }

  private async inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.parallel) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      // The slot passes straight to the next in line; `running` only drops when none waits.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
