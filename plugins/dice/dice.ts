import { Plugin } from 'switchboard-plugin';

const ROLL = /^(\d*)d(\d+)([+-]\d+)?$/i;

/** `!roll 2d6+1` rolls dice; limits come from the instance config (base-config.yaml). */
export class DiceBot extends Plugin {
  override start(): void {
    this.command('roll', 'Roll dice, e.g. !roll 2d6+1', (event, args) => {
      const result = this.roll(args || '1d6');
      return event.respond(result);
    });
  }

  roll(spec: string): string {
    const match = ROLL.exec(spec.replace(/\s+/g, ''));
    if (!match) return `I can't roll "${spec}": try something like 2d6+1`;
    const count = Number(match[1] || 1);
    const sides = Number(match[2]);
    const modifier = Number(match[3] ?? 0);
    const maxDice = Number(this.config.max_dice);
    const maxSides = Number(this.config.max_sides);
    if (count < 1 || count > maxDice) return `Between 1 and ${maxDice} dice, please`;
    if (sides < 2 || sides > maxSides) return `Between 2 and ${maxSides} sides, please`;
    const rolls = Array.from({ length: count }, () => 1 + Math.floor(Math.random() * sides));
    const total = rolls.reduce((a, b) => a + b, 0) + modifier;
    const shown = modifier ? `${rolls.join(' + ')} ${match[3]}` : rolls.join(' + ');
    return count === 1 && !modifier ? `${total}` : `${shown} = ${total}`;
  }
}
