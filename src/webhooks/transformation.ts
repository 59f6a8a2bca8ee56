import {
  getQuickJS,
  shouldInterruptAfterDeadline,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSWASMModule,
} from 'quickjs-emscripten';
import type { MessageContent } from '../connections/room-messenger';
import { renderMarkdown, sanitiseWebhookData, WEBHOOK_DATA_KEY } from './webhook-message';

/** A transformation function that does not compile, fails, runs too long or returns garbage. */
export class TransformationError extends Error {
  override name = 'TransformationError';
}

export interface TransformationLimits {
  memoryMb: number;
  timeoutMs: number;
}

/** What the script asks the hook to answer when the sender waits for completion. */
export interface WebhookResponse {
  body: string;
  contentType?: string;
  statusCode?: number;
}

export interface TransformResult {
  /** The message to post; null when the script asked for none (`empty: true`). */
  content: MessageContent | null;
  webhookResponse?: WebhookResponse;
}

const API_VERSION = 'v2';
// QuickJS runs on the WASM stack: larger limits let deep recursion crash the module instead.
const MAX_STACK_BYTES = 64 * 1024;
// The input is handed over as JSON text and parsed inside, so no host objects leak in.
const PRELUDE =
  'globalThis.data = JSON.parse(globalThis.__input); delete globalThis.__input;' +
  `globalThis.HookshotApiVersion = ${JSON.stringify(API_VERSION)}; var result;`;
const READ_RESULT = 'JSON.stringify(result === undefined ? null : result)';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string): TransformationError {
  return new TransformationError(`Invalid transformation result: ${message}`);
}

/** Turns what the script set as `result` into the message and the answer to the sender. */
export function interpretResult(result: unknown, data: unknown): TransformResult {
  const withData = (content: MessageContent): MessageContent => ({
    ...content,
    [WEBHOOK_DATA_KEY]: sanitiseWebhookData(data),
  });
  if (typeof result === 'string') {
    const plain = `Received webhook: ${result}`;
    return {
      content: withData({
        msgtype: 'm.notice',
        body: plain,
        format: 'org.matrix.custom.html',
        formatted_body: renderMarkdown(plain),
      }),
    };
  }
  if (!isRecord(result)) {
    return {
      content: withData({
        msgtype: 'm.notice',
        body: 'No content',
        format: 'org.matrix.custom.html',
        formatted_body: renderMarkdown('No content'),
      }),
    };
  }
  const { version, plain, html, msgtype, empty, mentions, webhookResponse } = result;
  if (version !== undefined && version !== API_VERSION) {
    throw invalid(`unsupported version ${JSON.stringify(version)}`);
  }
  if (empty !== undefined && typeof empty !== 'boolean') throw invalid("'empty' must be a boolean");
  if (html !== undefined && typeof html !== 'string') throw invalid("'html' must be a string");
  if (msgtype !== undefined && typeof msgtype !== 'string') {
    throw invalid("'msgtype' must be a string");
  }
  let response: WebhookResponse | undefined;
  if (webhookResponse !== undefined) {
    if (!isRecord(webhookResponse) || typeof webhookResponse.body !== 'string') {
      throw invalid("'webhookResponse.body' must be a string");
    }
    const { body, contentType, statusCode } = webhookResponse;
    if (contentType !== undefined && typeof contentType !== 'string') {
      throw invalid("'webhookResponse.contentType' must be a string");
    }
    if (
      statusCode !== undefined &&
      (typeof statusCode !== 'number' ||
        !Number.isInteger(statusCode) ||
        statusCode < 100 ||
        statusCode > 599)
    ) {
      throw invalid("'webhookResponse.statusCode' must be an HTTP status code");
    }
    response = {
      body,
      ...(contentType !== undefined ? { contentType } : {}),
      ...(statusCode !== undefined ? { statusCode } : {}),
    };
  }
  const respond = response !== undefined ? { webhookResponse: response } : {};
  if (empty === true) return { content: null, ...respond };
  if (typeof plain !== 'string') throw invalid("'plain' must be a string");
  let matrixMentions: Record<string, unknown> | undefined;
  if (mentions !== undefined) {
    if (!isRecord(mentions)) throw invalid("'mentions' must be an object");
    const { room, user_ids: userIds } = mentions;
    if (room !== undefined && typeof room !== 'boolean') {
      throw invalid("'mentions.room' must be a boolean");
    }
    if (
      userIds !== undefined &&
      !(Array.isArray(userIds) && userIds.every((u) => typeof u === 'string'))
    ) {
      throw invalid("'mentions.user_ids' must be a list of strings");
    }
    matrixMentions = {
      ...(room !== undefined ? { room } : {}),
      ...(userIds !== undefined ? { user_ids: userIds } : {}),
    };
  }
  return {
    content: withData({
      msgtype: msgtype ?? 'm.notice',
      body: plain,
      format: 'org.matrix.custom.html',
      formatted_body: html ?? renderMarkdown(plain),
      ...(matrixMentions !== undefined ? { 'm.mentions': matrixMentions } : {}),
    }),
    ...respond,
  };
}

/**
 * Runs hookshot transformation functions in QuickJS. The WASM module is loaded once; every run
 * gets a fresh runtime with its own memory and time limits, so one script cannot affect the next.
 */
export class TransformationRunner {
  private constructor(
    private readonly module: QuickJSWASMModule,
    private readonly limits: TransformationLimits,
  ) {}

  static async create(limits: TransformationLimits): Promise<TransformationRunner> {
    return new TransformationRunner(await getQuickJS(), limits);
  }

  /** Checks the syntax without running anything; throws TransformationError with the reason. */
  compile(code: string): void {
    this.withContext((ctx) => {
      const compiled = ctx.evalCode(code, 'transformation.js', { compileOnly: true });
      if (compiled.error) throw this.errorOf(ctx, compiled.error);
      compiled.value.dispose();
    });
  }

  /** Runs the script on the payload; throws TransformationError when it fails in any way. */
  run(code: string, data: unknown): TransformResult {
    const json = this.withContext((ctx) => {
      const input = ctx.newString(JSON.stringify(data) ?? 'null');
      ctx.setProp(ctx.global, '__input', input);
      input.dispose();
      this.evaluate(ctx, PRELUDE).dispose();
      this.evaluate(ctx, code).dispose();
      const read = this.evaluate(ctx, READ_RESULT);
      const text = ctx.typeof(read) === 'string' ? ctx.getString(read) : 'null';
      read.dispose();
      return text;
    });
    return interpretResult(JSON.parse(json) as unknown, data);
  }

  private evaluate(ctx: QuickJSContext, code: string): QuickJSHandle {
    const result = ctx.evalCode(code, 'transformation.js');
    if (result.error) throw this.errorOf(ctx, result.error);
    return result.value;
  }

  private errorOf(ctx: QuickJSContext, handle: QuickJSHandle): TransformationError {
    const dumped: unknown = ctx.dump(handle);
    handle.dispose();
    if (isRecord(dumped)) {
      const name = typeof dumped.name === 'string' ? dumped.name : 'Error';
      const message = typeof dumped.message === 'string' ? dumped.message : JSON.stringify(dumped);
      if (name === 'InternalError' && message === 'interrupted') {
        return new TransformationError(
          `Transformation function exceeded ${this.limits.timeoutMs} ms`,
        );
      }
      return new TransformationError(`${name}: ${message}`);
    }
    // QuickJS throws null when memory runs out before it can even make the error object.
    if (dumped === null) {
      return new TransformationError(
        `Transformation function threw null or ran out of its ${this.limits.memoryMb} MB of memory`,
      );
    }
    return new TransformationError(`Uncaught ${JSON.stringify(dumped) ?? 'undefined'}`);
  }

  private withContext<T>(body: (ctx: QuickJSContext) => T): T {
    const runtime = this.module.newRuntime();
    try {
      runtime.setMemoryLimit(this.limits.memoryMb * 1024 * 1024);
      runtime.setMaxStackSize(MAX_STACK_BYTES);
      runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + this.limits.timeoutMs));
      const ctx = runtime.newContext();
      try {
        return body(ctx);
      } finally {
        ctx.dispose();
      }
    } catch (err) {
      if (err instanceof TransformationError) throw err;
      throw new TransformationError(err instanceof Error ? err.message : String(err));
    } finally {
      runtime.dispose();
    }
  }
}
