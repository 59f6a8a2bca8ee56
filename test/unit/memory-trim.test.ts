import { MemoryTrim, processTrimProbe, type TrimProbe } from '../../src/util/memory-trim';

const MiB = 1024 * 1024;

/** A process whose busy share and RSS the test sets; a collection brings RSS down to `floor`. */
function fakeProcess(floor = 100 * MiB) {
  const state = { busy: 0, rss: 150 * MiB, collections: 0 };
  const probe: TrimProbe = {
    gc: (options) => {
      expect(options).toEqual({ type: 'major', execution: 'sync', flavor: 'last-resort' });
      state.collections++;
      state.rss = floor;
    },
    rss: () => state.rss,
    busy: () => state.busy,
  };
  return { state, probe };
}

describe('MemoryTrim', () => {
  it('when the loop was idle and RSS grew then one memory-reducing collection runs', () => {
    const { state, probe } = fakeProcess();
    const trims: [number, number][] = [];
    const trim = new MemoryTrim(probe, { onTrim: (before, after) => trims.push([before, after]) });
    expect(trim.check()).toBe(true);
    expect(state.collections).toBe(1);
    expect(trims).toEqual([[150 * MiB, 100 * MiB]]);
  });

  it('when the loop was busy then nothing is collected, however large RSS is', () => {
    const { state, probe } = fakeProcess();
    state.busy = 0.4;
    state.rss = 900 * MiB;
    expect(new MemoryTrim(probe).check()).toBe(false);
    expect(state.collections).toBe(0);
  });

  it('when idle again without growth then it does not collect again', () => {
    const { state, probe } = fakeProcess();
    const trim = new MemoryTrim(probe, { growthBytes: 16 * MiB });
    expect(trim.check()).toBe(true);
    state.rss += 15 * MiB;
    expect(trim.check()).toBe(false);
    state.rss += 2 * MiB;
    expect(trim.check()).toBe(true);
    expect(state.collections).toBe(2);
  });

  it('when the collector is not exposed then it is unavailable and start does nothing', () => {
    const { probe } = fakeProcess();
    const trim = new MemoryTrim({ ...probe, gc: undefined });
    expect(trim.available).toBe(false);
    expect(trim.check()).toBe(false);
    trim.start();
    trim.stop();
  });

  it("when this process's probe is read then it reports RSS and a busy share between 0 and 1", () => {
    const probe = processTrimProbe();
    expect(probe.rss()).toBeGreaterThan(MiB);
    const share = probe.busy();
    expect(share).toBeGreaterThanOrEqual(0);
    expect(share).toBeLessThanOrEqual(1);
  });
});
