import { Plugin, type PluginEvent } from 'switchboard-plugin';

const VOTE = /^(\S+?)(\+\+|--)$/;

/** `thing++` / `thing--` vote; `!karma thing` shows the score. Scores live in the database. */
export class KarmaBot extends Plugin {
  override async start(): Promise<void> {
    await this.database().query(
      'CREATE TABLE IF NOT EXISTS karma (thing TEXT PRIMARY KEY, score INTEGER NOT NULL)',
    );
    this.on('message', (event) => this.vote(event));
    this.command('karma', 'Show the karma of something, e.g. !karma cats', async (event, args) => {
      const thing = args.toLowerCase();
      const { rows } = await this.database().query('SELECT score FROM karma WHERE thing = $1', [
        thing,
      ]);
      await event.respond(`${thing} has ${Number(rows[0]?.score ?? 0)} karma`);
    });
  }

  private async vote(event: PluginEvent): Promise<void> {
    const match = VOTE.exec(event.body.trim());
    if (!match) return;
    const thing = match[1]!.toLowerCase();
    const delta = match[2] === '++' ? 1 : -1;
    const { rows } = await this.database().query(
      `INSERT INTO karma (thing, score) VALUES ($1, $2)
       ON CONFLICT (thing) DO UPDATE SET score = karma.score + $2
       RETURNING score`,
      [thing, delta],
    );
    await event.react(delta > 0 ? '👍' : '👎');
    this.log.info(`karma of ${thing} is now ${Number(rows[0]?.score)}`);
  }

  private database() {
    if (!this.db) throw new Error('the karma plugin needs its database (database: true)');
    return this.db;
  }
}
