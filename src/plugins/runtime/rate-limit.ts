/**
 * A token bucket: `burst` at once, then `perSecond`. It also knows when a burst of refusals
 * starts, so whoever enforces it warns once per burst rather than once per refusal. Used on
 * both sides of the plugin host channel (no imports: it is bundled into the host).
 */
export class RateLimit {
  private tokens: number;
  private last: number;
  /** From the first refusal until something is let through again. */
  private dropping = false;

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
      this.dropping = false;
      return 'ok';
    }
    return this.noteDrop() ? 'first-drop' : 'drop';
  }

  /** Someone else refused one: true when that starts a burst. */
  noteDrop(): boolean {
    if (this.dropping) return false;
    this.dropping = true;
    return true;
  }
}
