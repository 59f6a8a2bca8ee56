/** A burst of refusals ends after this long without one. */
const QUIET_MS = 1000;

/**
 * A token bucket: `burst` at once, then `perSecond`. It also knows when a burst of refusals
 * starts, so whoever enforces it warns once per burst rather than once per refusal (a source
 * that keeps flooding stays in one burst). Used on both sides of the plugin host channel, so
 * it imports nothing: it is bundled into the host.
 */
export class RateLimit {
  private tokens: number;
  private last: number;
  /** From the first refusal until a second passes without one. */
  private dropping = false;
  private lastDrop = -Infinity;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** 'ok' lets one through; 'first-drop' is the first refusal of a burst; 'drop' the rest. */
  take(): 'ok' | 'first-drop' | 'drop' {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'ok';
    }
    return this.noteDrop() ? 'first-drop' : 'drop';
  }

  /** A refusal (here or by the other side of the channel): true when it starts a burst. */
  noteDrop(): boolean {
    const now = this.now();
    const starts = !this.dropping || now - this.lastDrop >= QUIET_MS;
    this.dropping = true;
    this.lastDrop = now;
    return starts;
  }
}
