import { Plugin, type PluginEvent } from 'switchboard-plugin';

/** `!echo <text>` repeats the text; `!ping` answers with how long the message took to arrive. */
export class EchoBot extends Plugin {
  override start(): void {
    this.command('echo', 'Repeat the text after the command', (event, args) =>
      event.respond(args || '(nothing to echo)'),
    );
    this.command('ping', 'Show how long the message took to reach the bot', (event) =>
      this.pong(event),
    );
  }

  private async pong(event: PluginEvent): Promise<void> {
    const ms = Math.max(0, Date.now() - event.originServerTs);
    await event.reply(`Pong! (${ms} ms)`);
  }
}
