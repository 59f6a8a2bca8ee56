import type { Knex } from 'knex';
import { listWebhookHooks } from '../db/webhook-repository';

/** The in-memory map of hook ids to connection ids, so a delivery needs no database query. */
export class WebhookHooks {
  private readonly byHook = new Map<string, string>();
  private readonly byConnection = new Map<string, string>();

  /** Replaces the map with every hook in the database (at startup). */
  async load(db: Knex): Promise<void> {
    const hooks = await listWebhookHooks(db);
    this.byHook.clear();
    this.byConnection.clear();
    for (const hook of hooks) this.set(hook.hookId, hook.connectionId);
  }

  set(hookId: string, connectionId: string): void {
    const previous = this.byConnection.get(connectionId);
    if (previous !== undefined && previous !== hookId) this.byHook.delete(previous);
    this.byHook.set(hookId, connectionId);
    this.byConnection.set(connectionId, hookId);
  }

  removeConnection(connectionId: string): void {
    const hookId = this.byConnection.get(connectionId);
    if (hookId !== undefined) this.byHook.delete(hookId);
    this.byConnection.delete(connectionId);
  }

  connectionOf(hookId: string): string | undefined {
    return this.byHook.get(hookId);
  }

  hookOf(connectionId: string): string | undefined {
    return this.byConnection.get(connectionId);
  }
}
