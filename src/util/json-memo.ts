/** A value and its JSON text, made once and kept while what it was made from stays the same. */
export interface JsonAnswer<V> {
  readonly view: V;
  readonly json: string;
}

/**
 * Answers by key, each remembered with the inputs it was made from: the same inputs (compared
 * by identity, in order) give back the same answer object, so neither the value nor its JSON
 * is made again, and a caller may remember which answers it has already checked.
 */
export class JsonMemo {
  private readonly entries = new Map<
    string,
    { inputs: readonly unknown[]; answer: JsonAnswer<unknown> }
  >();

  get<V>(key: string, inputs: readonly unknown[], build: () => V): JsonAnswer<V> {
    const entry = this.entries.get(key);
    if (entry && sameInputs(entry.inputs, inputs)) return entry.answer as JsonAnswer<V>;
    const view = build();
    const answer: JsonAnswer<V> = { view, json: JSON.stringify(view) };
    this.entries.set(key, { inputs, answer });
    return answer;
  }

  /** Forgets every answer (e.g. once ids may have gone). */
  clear(): void {
    this.entries.clear();
  }

  private version: number | undefined;

  /** The answers kept for this version of the source; a new version forgets the older ones. */
  at(version: number): this {
    if (version !== this.version) {
      this.clear();
      this.version = version;
    }
    return this;
  }
}

/** Each group's values with their JSON text. */
export function answersByKey<V>(
  groups: ReadonlyMap<string, readonly V[]>,
): Map<string, JsonAnswer<V>[]> {
  return new Map(
    [...groups].map(([key, views]) => [
      key,
      views.map((view) => ({ view, json: JSON.stringify(view) })),
    ]),
  );
}

function sameInputs(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
