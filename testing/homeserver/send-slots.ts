/**
 * The test homeserver's capacity for message sends: each takes `latencyMs` once it holds one of
 * `capacity` slots, and sends beyond that wait for a slot in arrival order. Synapse behaves so
 * under load: it works on requests side by side until its process and database are busy, then
 * they queue and take longer; it answers 429 only for a user's own rate limit (which
 * `rateLimitNext` models), never because it is busy.
 */
export class SendSlots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly capacity: number,
    private readonly latencyMs: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active < this.capacity) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
      return await work();
    } finally {
      // The slot passes straight to the next waiting send.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
