import { rm } from 'node:fs/promises';
import type { TestServers } from './global-setup';

/** Stops the global setup's embedded servers and removes their directories. */
export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as { switchboardTestServers?: TestServers }).switchboardTestServers;
  if (!state) return;
  await Promise.all(state.servers.map((server) => server.stop()));
  await rm(state.dir, { recursive: true, force: true });
}
