import { TestHomeserver } from '../../testing/homeserver/test-homeserver';
import {
  readTranscript,
  sameAnswer,
  TranscriptReplay,
  usersBefore,
  type Answer,
  type Exchange,
} from '../../testing/homeserver/transcript-replay';

/**
 * The test homeserver against recorded Synapse 1.67 answers: every step of every transcript
 * is replayed and the answer compared with the recorded one after the recorder's
 * normalisation (status, errcode and message, body, kept media headers). README.md lists the
 * deliberate differences that the comparison leaves out.
 */

const SCENARIOS = [
  'account-basics',
  'errors',
  'media',
  'membership-and-state-reads',
  'sync-maubot-filter',
  'sync-own-join-filtered',
  'sync-own-join-unfiltered',
  'sync-timeline-limits',
];
const SHARED_SECRET = 'transcript-shared-secret';

interface Mismatch {
  step: string;
  recorded: Answer;
  answered: Answer;
}

/** What of a step is compared: thumbnails are the original bytes here (no image library). */
function compared(exchange: Exchange, answer: Answer): Answer {
  if (exchange.request.path.includes('/thumbnail/') && answer.status === 200) {
    return { status: answer.status, body: null, headers: pickType(answer.headers) };
  }
  return answer;
}

const pickType = (headers: Record<string, string>): Record<string, string> => ({
  'content-type': headers['content-type'] ?? '',
});

async function replay(name: string): Promise<{ mismatches: Mismatch[]; steps: number }> {
  const exchanges = readTranscript(name);
  const hs = await TestHomeserver.start({
    serverName: 'localhost',
    registrationSharedSecret: SHARED_SECRET,
  });
  try {
    const replay = new TranscriptReplay(hs, SHARED_SECRET);
    for (const user of usersBefore(exchanges)) replay.addUser(user);
    const mismatches: Mismatch[] = [];
    for (const exchange of exchanges) {
      const answer = await replay.send(exchange);
      replay.learn(exchange.response.body, answer.body);
      // Synapse's two-minute cache of identical /sync requests is not copied (README.md).
      if (exchange.step === 'bot-initial-sync-repeated-identical') continue;
      const recorded = compared(exchange, TranscriptReplay.comparableRecord(exchange));
      const answered = compared(exchange, replay.normalise(answer, exchange.request));
      // Media answers: the headers the recorder kept.
      const kept = Object.keys(recorded.headers);
      answered.headers = Object.fromEntries(kept.map((k) => [k, answered.headers[k] ?? '']));
      const same =
        recorded.status === answered.status &&
        sameAnswer(recorded.body, answered.body) &&
        sameAnswer(recorded.headers, answered.headers);
      if (!same) mismatches.push({ step: exchange.step, recorded, answered });
    }
    return { mismatches, steps: exchanges.length };
  } finally {
    await hs.close();
  }
}

describe('the test homeserver against recorded Synapse answers', () => {
  it.each(SCENARIOS)(
    'when the %s transcript is replayed, then every answer matches',
    async (name) => {
      const { mismatches, steps } = await replay(name);
      expect(steps).toBeGreaterThan(10);
      expect(mismatches).toEqual([]);
    },
  );
});
