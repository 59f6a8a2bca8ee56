import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');
const FLAGS = ['--max-semi-space-size=8', '--expose-gc'];

// The benchmark measures the server as it is deployed: the three must start it alike.
describe('the V8 flags the server runs with', () => {
  it('when npm start runs the server then it passes the flags', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(scripts.start).toBe(`node ${FLAGS.join(' ')} dist/src/server.js`);
  });

  it('when the Docker image starts then its command passes the same flags', () => {
    expect(read('Dockerfile')).toContain(
      `CMD ["node", ${FLAGS.map((f) => `"${f}"`).join(', ')}, "dist/src/server.js"]`,
    );
  });

  it('when the benchmark starts Switchboard then it passes the same flags', () => {
    expect(read('bench/lib.ts')).toContain(
      `const SERVER_NODE_FLAGS = [${FLAGS.map((f) => `'${f}'`).join(', ')}];`,
    );
  });
});
