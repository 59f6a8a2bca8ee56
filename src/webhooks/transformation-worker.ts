/**
 * Entry of a transformation runner's worker thread: QuickJS in a fixed-size memory, one call at
 * a time. The server terminates the thread when a call overruns its time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InvalidResultError, interpretResult, type TransformResult } from './transformation-result';
import { BASE_BYTES, Sandbox, type SandboxLimits } from './transformation-sandbox';

export interface RunnerBoot {
  module: WebAssembly.Module;
  limits: SandboxLimits;
}

export type RunnerCall =
  | { id: number; kind: 'run'; code: string; input: string }
  | { id: number; kind: 'compile'; code: string };

/** `retire`: the runner's memory grew or its module failed; the server replaces it. */
export type RunnerReply =
  | { kind: 'ready' }
  | { kind: 'done'; id: number; retire: boolean; ok: true; result?: TransformResult }
  | { kind: 'done'; id: number; retire: boolean; ok: false; error: string };

const port = parentPort!;
const boot = workerData as RunnerBoot;
const post = (reply: RunnerReply) => port.postMessage(reply);

function answer(sandbox: Sandbox, call: RunnerCall): RunnerReply {
  const outcome =
    call.kind === 'compile' ? sandbox.compile(call.code) : sandbox.run(call.code, call.input);
  // Memory that grew stays with the module; a fresh runner gives it back.
  const retire = (!outcome.ok && outcome.broken === true) || sandbox.memoryBytes > BASE_BYTES;
  if (!outcome.ok) return { kind: 'done', id: call.id, retire, ok: false, error: outcome.error };
  if (call.kind === 'compile') return { kind: 'done', id: call.id, retire, ok: true };
  try {
    return { kind: 'done', id: call.id, retire, ok: true, result: interpretResult(outcome.value) };
  } catch (err) {
    if (!(err instanceof InvalidResultError)) throw err;
    return { kind: 'done', id: call.id, retire, ok: false, error: err.message };
  }
}

void Sandbox.load(boot.module, boot.limits).then((sandbox) => {
  port.on('message', (call: RunnerCall) => post(answer(sandbox, call)));
  post({ kind: 'ready' });
});
