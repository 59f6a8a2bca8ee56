import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { ProvisioningApiError } from './errors';

const USER_ID = /@.+:.+/;
const ROOM_ID = /!.+:.+/;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** `Authorization: Bearer <secret>`, compared in constant time (digests have equal length). */
export function provisioningAuth(secret: string) {
  const expected = digest(`Bearer ${secret}`);
  return (req: Request, _res: Response, next: NextFunction): void => {
    const given = digest(req.headers.authorization ?? '');
    if (!timingSafeEqual(given, expected)) {
      throw new ProvisioningApiError('HS_BAD_TOKEN', 'Unauthorized');
    }
    next();
  };
}

const ROOM_ROUTE = /^\/([^/]+)\/connections(?:\/|$)/;

/**
 * Every route but /connectiontypes acts for a user named by a `userId` query parameter, and
 * room routes name a room. Checked before routing, in hookshot's order.
 */
export function requireUserAndRoom(req: Request, _res: Response, next: NextFunction): void {
  if (req.path === '/connectiontypes') {
    next();
    return;
  }
  const userId = req.query.userId;
  if (typeof userId !== 'string' || !USER_ID.test(userId)) {
    throw new ProvisioningApiError('HS_BAD_VALUE', 'Invalid userId');
  }
  const room = ROOM_ROUTE.exec(req.path);
  if (room && !ROOM_ID.test(decodePathSegment(room[1]!))) {
    throw new ProvisioningApiError('HS_BAD_VALUE', 'Invalid roomId');
  }
  next();
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
