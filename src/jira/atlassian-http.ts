import { z } from 'zod';

/** How long one request to Atlassian may take. */
const REQUEST_TIMEOUT_MS = 10_000;

/** The shapes of Atlassian's answers that Switchboard reads (other fields are kept). */
export const tokenAnswer = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.number().positive(),
});

export const resourcesAnswer = z.array(
  z.object({ id: z.string(), name: z.string(), url: z.string() }).loose(),
);

export const projectAnswer = z
  .object({ id: z.string(), key: z.string(), name: z.string() })
  .loose();

export const projectPageAnswer = z
  .object({ values: z.array(projectAnswer), isLast: z.boolean().optional() })
  .loose();

/** Atlassian answered with a status we cannot use. */
export class AtlassianError extends Error {
  override name = 'AtlassianError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A GET or POST to Atlassian whose JSON answer is returned; other statuses are AtlassianErrors. */
export async function fetchAtlassian(url: string, init: RequestInit): Promise<unknown> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  if (!res.ok) {
    // The body is not logged: token endpoints may echo what they were sent.
    await res.body?.cancel();
    throw new AtlassianError(res.status, `${init.method ?? 'GET'} ${redact(url)}: ${res.status}`);
  }
  return res.json();
}

export function join(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path}`;
}

function redact(url: string): string {
  const u = new URL(url);
  u.search = '';
  return u.toString();
}

export function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
