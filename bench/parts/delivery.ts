/** Delivery into rooms against a homeserver of fixed latency and capacity. */
import { type BenchPart } from '../lib';
import { startWebhookProcesses } from '../webhook-processes';

/** Sends the homeserver handles at once (C); more wait for a slot, as Synapse's do. */
const CAPACITY = Number(process.env.BENCH_DELIVERY_CAPACITY ?? 16);
/** The time each send takes once it has a slot (L). */
const LATENCY_MS = Number(process.env.BENCH_DELIVERY_LATENCY_MS ?? 100);
/** Busy rooms: more than the capacity, so the limit across rooms is what counts. */
const ROOMS = Math.ceil(2.5 * CAPACITY);
const MESSAGES_PER_ROOM = Number(process.env.BENCH_DELIVERY_MESSAGES ?? 40);
const TARGET_SHARE = 0.9;
/** The rate is taken between these shares of the arrivals: the ramp-up and the tail are left out. */
const FROM = 0.1;
const TO = 0.9;

/**
 * Webhook posts to ROOMS rooms (each sender posts its room's messages one after another, far
 * faster than they can be delivered) against a test homeserver that takes LATENCY_MS per send
 * and CAPACITY sends at once: delivery must reach 90 % of CAPACITY / LATENCY messages/s with
 * every room's messages in the order they were posted.
 */
async function run(): Promise<boolean> {
  const info = await startWebhookProcesses({
    rooms: ROOMS,
    homeserverEnv: {
      BENCH_HS_SEND_LATENCY_MS: String(LATENCY_MS),
      BENCH_HS_SEND_CAPACITY: String(CAPACITY),
    },
  });
  try {
    await info.postNumbered(MESSAGES_PER_ROOM);
    const total = ROOMS * MESSAGES_PER_ROOM;
    const ideal = CAPACITY / (LATENCY_MS / 1000);
    let report = await info.arrivals();
    const deadline = performance.now() + (3 * total * 1000) / ideal + 30_000;
    while (Object.keys(report.arrivals).length < total && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      report = await info.arrivals();
    }
    const times = Object.values(report.arrivals).sort((a, b) => a - b);
    const first = Math.floor(FROM * total);
    const last = Math.ceil(TO * total) - 1;
    const rate =
      times.length === total ? (last - first) / ((times[last]! - times[first]!) / 1000) : 0;
    const ok = times.length === total && report.inOrder && rate >= TARGET_SHARE * ideal;
    console.log(
      `\ndelivery, ${ROOMS} busy rooms x ${MESSAGES_PER_ROOM} messages, homeserver capacity ` +
        `${CAPACITY} sends at once of ${LATENCY_MS} ms each: ${times.length}/${total} delivered, ` +
        `${rate.toFixed(0)} messages/s between ${FROM * 100} % and ${TO * 100} % of the arrivals; ` +
        `C / L = ${ideal.toFixed(0)} messages/s (target >= ${TARGET_SHARE * 100} %: ` +
        `${(TARGET_SHARE * ideal).toFixed(0)}) ${rate >= TARGET_SHARE * ideal ? 'ok' : 'too slow'}; ` +
        `per-room order ${report.inOrder ? 'kept' : 'BROKEN'}`,
    );
    return !ok;
  } finally {
    await info.stop();
  }
}

export const deliveryPart: BenchPart = {
  name: 'delivery',
  description:
    'delivery to 2.5 x C busy rooms on a homeserver of C sends at once x L ms each (>= 90 % of C / L, in order)',
  run,
};
