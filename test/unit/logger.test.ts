import { createLogger, namedLogger } from '../../src/logging/logger';
import { captureLogs } from '../helpers/log-capture';
import { parseStrictJson } from '../helpers/strict-json';

describe('named loggers', () => {
  it('when a named logger is named again, then its lines carry the last name once and the other fields', () => {
    const logs = captureLogs('info');
    const bridge = namedLogger(logs.logger, 'bridge', { roomId: '!r:x' });
    namedLogger(bridge, 'bridge.bot').info({ event: '$e' }, 'deep');
    bridge.child({ extra: 1 }).info('child of a named one');
    const raw = logs.text().trimEnd().split('\n');
    expect(raw.map((line) => parseStrictJson(line).duplicateKeys)).toEqual([[], []]);
    expect(logs.lines).toEqual([
      expect.objectContaining({
        name: 'switchboard',
        logger: 'bridge.bot',
        roomId: '!r:x',
        event: '$e',
        msg: 'deep',
      }),
      expect.objectContaining({ logger: 'bridge', roomId: '!r:x', extra: 1 }),
    ]);
  });

  it('when the logger is not one createLogger made, then a named child still works', () => {
    const silent = createLogger('silent');
    expect(namedLogger(namedLogger(silent.child({}), 'a'), 'b').bindings()).toMatchObject({
      logger: 'b',
    });
  });
});

describe('the strict JSON check', () => {
  it.each([
    ['{"a":1,"a":2}', ['a']],
    ['{"a":{"b":1,"b":{"c":[{"d":1,"d":2}]}},"x":"\\"a\\":"}', ['b', 'd']],
    ['{"a":"{\\"a\\":1}","b":["a","a"],"c":{"a":1}}', []],
  ])('finds the repeated keys of %s', (text, keys) => {
    expect(parseStrictJson(text).duplicateKeys).toEqual(keys);
  });
});
