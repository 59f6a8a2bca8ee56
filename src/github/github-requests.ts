/** How long one request to GitHub may take, so a GitHub that never answers hangs no call. */
const REQUEST_TIMEOUT_MS = 15_000;

/** The HTTP status of an Octokit error, if it has one. */
export const statusOf = (err: unknown): number | undefined =>
  typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number'
    ? err.status
    : undefined;

export const timedFetch = (url: string | URL | Request, init?: RequestInit): Promise<Response> =>
  fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });

export const stripSlash = (url: string): string => url.replace(/\/+$/, '');

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
