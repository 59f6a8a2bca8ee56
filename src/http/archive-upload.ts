import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import multer from 'multer';

/** An uploaded file, spooled to disk: large archives are never held in memory whole. */
export interface UploadedFile {
  path: string;
  size: number;
  /** Hex SHA-256 of the content, when it was computed while the file was written. */
  sha256?: string;
}

class UploadTooLargeError extends Error {
  override name = 'UploadTooLargeError';
  readonly status = 413;
  readonly type = 'entity.too.large';
}

let spoolDir: string | undefined;

/** One spool directory per process, made on first use and removed when the process exits. */
export function processSpoolDir(): string {
  if (spoolDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-uploads-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    spoolDir = dir;
  }
  return spoolDir;
}

/** Where uploads wait while they are validated and stored; files are removed after each request. */
export class UploadSpool {
  readonly dir = processSpoolDir();

  constructor(readonly limitBytes: number) {}

  /** multer options for multipart uploads (used through the validator's file uploader). */
  multerOptions(): multer.Options {
    return {
      storage: multer.diskStorage({ destination: this.dir }),
      limits: { fileSize: this.limitBytes, files: 1 },
    };
  }

  /**
   * Streams an `application/zip` body into a spool file (413 past the limit) and makes it
   * `res.locals.upload`. Other bodies pass through untouched.
   */
  rawZip(): RequestHandler {
    return async (req: Request, res: Response, next: NextFunction) => {
      if (!req.is('application/zip')) {
        next();
        return;
      }
      if (Number(req.headers['content-length'] ?? 0) > this.limitBytes) {
        next(new UploadTooLargeError());
        return;
      }
      const path = join(this.dir, randomBytes(12).toString('hex'));
      this.removeAfter(res, path);
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
    for (const f of files ?? []) this.removeAfter(res, f.path);
    const part = files?.find((f) => f.fieldname === 'file');
    if (part) return { path: part.path, size: part.size };
    return (res.locals.upload as UploadedFile | undefined) ?? null;
  }

  private removeAfter(res: Response, path: string): void {
    res.once('close', () => {
      void rm(path, { force: true });
    });
  }
}
