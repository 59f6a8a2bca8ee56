/** How many sends may be in flight to one homeserver, learnt from how it answers. */
export interface SendConcurrency {
  /** Sends allowed in flight now (at least 1). */
  readonly limit: number;
  /** A send starts; the ticket goes back with its outcome. */
  begin(): number;
  /** The send was stored after `latencyMs`; `saturated`: every slot was in use when it began. */
  succeeded(ticket: number, latencyMs: number, saturated: boolean): void;
  /** The homeserver is overloaded or away (429, 5xx, no answer). */
  congested(ticket: number): void;
}

export interface AdaptiveConcurrencyOptions {
  initial: number;
  min: number;
  max: number;
  /**
   * Latency this many times the baseline (the lowest seen lately) means sends are queueing at
   * the homeserver: more concurrency would only add delay.
   */
  latencyTolerance: number;
  /** Latency samples per baseline epoch; the baseline is the lowest of this epoch and the last. */
  epochSamples: number;
}

export const DEFAULT_CONCURRENCY: AdaptiveConcurrencyOptions = {
  initial: 4,
  min: 1,
  max: 64,
  latencyTolerance: 1.5,
  epochSamples: 200,
};

/** Multiplicative decreases: gentle when only latency rose, halving on errors. */
const LATENCY_DECREASE = 0.8;
const ERROR_DECREASE = 0.5;
/** Weight of a new sample in the smoothed latency. */
const SMOOTHING = 0.25;

/**
 * AIMD, as TCP does for its window: the limit grows by one per send while it starts out (slow
 * start) and by one per limit's worth of sends after the first sign of congestion, and only
 * while the limit is what holds sends back. It shrinks when the smoothed latency rises past the
 * tolerance (the homeserver queues sends: Synapse slows down rather than refusing) and halves on
 * 429s, 5xx answers and failures to connect. One decrease per round of sends: a signal from a
 * send that began before the last decrease is not counted again.
 */
export class AdaptiveConcurrency implements SendConcurrency {
  private value: number;
  private slowStart = true;
  private started = 0;
  /** Signals from sends with a ticket up to this one came before the last decrease. */
  private heldUntil = 0;
  private smoothed = 0;
  private samples = 0;
  private epochMin = Infinity;
  private lastEpochMin = Infinity;
  private epochCount = 0;

  constructor(private readonly options: AdaptiveConcurrencyOptions = DEFAULT_CONCURRENCY) {
    this.value = options.initial;
  }

  get limit(): number {
    return Math.max(this.options.min, Math.floor(this.value));
  }

  /** The lowest latency seen lately (Infinity before the first answer). */
  get baselineMs(): number {
    return Math.min(this.epochMin, this.lastEpochMin);
  }

  begin(): number {
    return ++this.started;
  }

  succeeded(ticket: number, latencyMs: number, saturated: boolean): void {
    this.observe(latencyMs);
    if (this.smoothed > this.baselineMs * this.options.latencyTolerance) {
      this.decrease(ticket, LATENCY_DECREASE);
      return;
    }
    // Sends that never filled the slots say nothing about whether more would help.
    if (!saturated) return;
    this.value = Math.min(
      this.options.max,
      this.value + (this.slowStart ? 1 : 1 / Math.max(1, this.value)),
    );
  }

  congested(ticket: number): void {
    this.decrease(ticket, ERROR_DECREASE);
  }

  private observe(latencyMs: number): void {
    this.smoothed =
      this.samples++ === 0 ? latencyMs : this.smoothed + SMOOTHING * (latencyMs - this.smoothed);
    this.epochMin = Math.min(this.epochMin, latencyMs);
    if (++this.epochCount >= this.options.epochSamples) {
      // A homeserver that became slower for good raises the baseline within two epochs.
      this.lastEpochMin = this.epochMin;
      this.epochMin = Infinity;
      this.epochCount = 0;
    }
  }

  private decrease(ticket: number, factor: number): void {
    this.slowStart = false;
    if (ticket <= this.heldUntil) return;
    this.value = Math.max(this.options.min, this.value * factor);
    this.heldUntil = this.started;
  }
}
