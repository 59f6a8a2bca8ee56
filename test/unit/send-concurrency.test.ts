import {
  AdaptiveConcurrency,
  DEFAULT_CONCURRENCY,
  type AdaptiveConcurrencyOptions,
} from '../../src/bridge/send-concurrency';

const options = (overrides: Partial<AdaptiveConcurrencyOptions> = {}) => ({
  ...DEFAULT_CONCURRENCY,
  ...overrides,
});

/** `n` sends at `latencyMs`, each begun while every slot was in use (or not). */
function sends(c: AdaptiveConcurrency, n: number, latencyMs: number, saturated = true): void {
  for (let i = 0; i < n; i++) c.succeeded(c.begin(), latencyMs, saturated);
}

/**
 * A homeserver that takes `capacity` sends at once, each for `latencyMs`, and queues the rest
 * (as Synapse does): rounds of `limit` sends, each of which waits behind the ones before it.
 */
function simulate(c: AdaptiveConcurrency, capacity: number, latencyMs: number, rounds: number) {
  const limits: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const limit = c.limit;
    limits.push(limit);
    const tickets = Array.from({ length: limit }, () => c.begin());
    tickets.forEach((ticket, i) => {
      c.succeeded(ticket, latencyMs * (Math.floor(i / capacity) + 1), true);
    });
  }
  return limits;
}

describe('AdaptiveConcurrency', () => {
  it('when it starts then it allows the initial limit', () => {
    expect(new AdaptiveConcurrency(options({ initial: 4 })).limit).toBe(4);
  });

  it('when saturated sends come back at a steady latency then it grows by one per send at first', () => {
    const c = new AdaptiveConcurrency(options({ initial: 4 }));
    sends(c, 6, 50);
    expect(c.limit).toBe(10);
  });

  it('when sends do not fill the slots then the limit stays where it is', () => {
    const c = new AdaptiveConcurrency(options({ initial: 4 }));
    sends(c, 100, 50, false);
    expect(c.limit).toBe(4);
  });

  it('when it reaches the maximum then it grows no further', () => {
    const c = new AdaptiveConcurrency(options({ initial: 4, max: 8 }));
    sends(c, 100, 50);
    expect(c.limit).toBe(8);
  });

  it('when the homeserver answers 429 or fails then the limit halves, once per round of sends', () => {
    const c = new AdaptiveConcurrency(options({ initial: 16 }));
    const round = Array.from({ length: 16 }, () => c.begin());
    for (const ticket of round) c.congested(ticket);
    expect(c.limit).toBe(8);
    // A send begun after the decrease counts again.
    c.congested(c.begin());
    expect(c.limit).toBe(4);
  });

  it('when errors keep coming then it never goes below the minimum', () => {
    const c = new AdaptiveConcurrency(options({ initial: 4, min: 2 }));
    for (let i = 0; i < 10; i++) c.congested(c.begin());
    expect(c.limit).toBe(2);
  });

  it('after a decrease it grows by about one per round of sends (additive increase)', () => {
    const c = new AdaptiveConcurrency(options({ initial: 20 }));
    c.congested(c.begin());
    expect(c.limit).toBe(10);
    sends(c, 10, 50);
    expect(c.limit).toBe(10);
    sends(c, 2, 50);
    expect(c.limit).toBe(11);
  });

  it('when latency rises past the tolerance over the baseline then the limit shrinks', () => {
    const c = new AdaptiveConcurrency(options({ initial: 10 }));
    sends(c, 5, 50, false);
    expect(c.baselineMs).toBe(50);
    sends(c, 20, 200);
    expect(c.limit).toBeLessThan(10);
  });

  it('when the homeserver queues sends beyond its capacity then the limit settles at or a little above it', () => {
    const c = new AdaptiveConcurrency();
    const limits = simulate(c, 16, 50, 300);
    const settled = limits.slice(100);
    expect(Math.min(...settled)).toBeGreaterThanOrEqual(16);
    expect(Math.max(...settled)).toBeLessThanOrEqual(32);
  });

  it('when the homeserver becomes slower for good then the baseline follows within two epochs', () => {
    const c = new AdaptiveConcurrency(options({ epochSamples: 10 }));
    sends(c, 10, 20, false);
    expect(c.baselineMs).toBe(20);
    sends(c, 20, 80, false);
    expect(c.baselineMs).toBe(80);
  });
});
