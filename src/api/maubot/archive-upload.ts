import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import type { UploadedFile } from '../../plugins/uploaded-file';
import { releaseStreamBuffers } from '../../util/memory-trim';

class UploadTooLargeError extends Error {
  override name = 'UploadTooLargeError';
  readonly status = 413;
  readonly type = 'entity.too.large';
}

/** Where uploads are spooled: under the data directory, where the disk space is planned. */
export function uploadSpoolDir(dataDir: string): string {
  return join(resolve(dataDir), 'uploads');
}

/** Multipart uploads carry one file and at most a few small text fields. */
const MULTIPART_LIMITS = { files: 1, fields: 8, fieldSize: 1024, parts: 9, headerPairs: 20 };

/**
 * The validator reports a multipart body that busboy cannot parse (truncated, without its
 * boundary, with broken part headers) as a 500. Mounted right after the validator, this makes
 * those the 400 of an unreadable body; errors of later handlers never pass through it.
 */
export const unreadableMultipart: ErrorRequestHandler = (err: unknown, req, _res, next) => {
  const e = err as { status?: unknown; message?: unknown } | null;
  if (e?.status === 500 && req.is('multipart/form-data')) {
    next(
      Object.assign(new Error(`The multipart body could not be read: ${String(e.message)}`), {
        status: 400,
      }),
    );
    return;
  }
  next(err);
};

/**
 * Where uploads wait while they are validated and stored. Every file is removed when its
 * request ends, whatever the outcome; what a killed process left behind is removed when the
 * next one makes its spool (one process per data directory).
 */
export class UploadSpool {
  constructor(
    readonly limitBytes: number,
    readonly dir: string,
  ) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** multer options for multipart uploads (used through the validator's file uploader). */
  multerOptions(): multer.Options {
    return {
      storage: multer.diskStorage({ destination: this.dir }),
      limits: { ...MULTIPART_LIMITS, fileSize: this.limitBytes },
    };
  }

  /**
   * For requests `isUpload` picks: a multipart body is left to multer; any other body (maubot
   * takes every non-multipart body as the zip, whatever its type) is streamed into a spool
   * file (413 past the limit) and made `res.locals.upload`. Spool files of either kind are
   * removed when the response ends.
   */
  archiveBody(isUpload: (req: Request) => boolean): RequestHandler {
    return async (req: Request, res: Response, next: NextFunction) => {
      if (!isUpload(req)) {
        next();
        return;
      }
      res.once('close', () => {
        const files = (req.files as Express.Multer.File[] | undefined) ?? [];
        // A part cut off mid-file is listed without a path (multer removed what it wrote).
        for (const f of files) if (typeof f.path === 'string') void rm(f.path, { force: true });
        releaseStreamBuffers();
      });
      if (req.is('multipart/form-data')) {
        next();
        return;
      }
      req.headers['content-type'] = 'application/zip';
      if (Number(req.headers['content-length'] ?? 0) > this.limitBytes) {
        next(new UploadTooLargeError());
        return;
      }
      const path = join(this.dir, randomBytes(12).toString('hex'));
      res.once('close', () => void rm(path, { force: true }));
      let size = 0;
      const limit = this.limitBytes;
      const hash = createHash('sha256');
      const counter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          hash.update(chunk);
          done(size > limit ? new UploadTooLargeError() : null, chunk);
        },
      });
      try {
        // A deep write buffer lets chunks that arrive during a write go out together.
        await pipeline(req, counter, createWriteStream(path, { highWaterMark: 4 * 1024 * 1024 }));
      } catch (err) {
        next(err);
        return;
      }
      res.locals.upload = { path, size, sha256: hash.digest('hex') } satisfies UploadedFile;
      next();
    };
  }

  /** The spooled upload of a raw or multipart request (multipart: its `file` part). */
  uploadedFile(req: Request, res: Response): UploadedFile | null {
    const files = req.files as Express.Multer.File[] | undefined;
    const part = files?.find((f) => f.fieldname === 'file');
    if (part) return { path: part.path, size: part.size };
    return (res.locals.upload as UploadedFile | undefined) ?? null;
  }
}
