/**
 * Parses one JSON text and also reports keys that appear twice in one object, which JSON.parse
 * accepts silently (the last one wins) but strict log pipelines reject.
 */
export function parseStrictJson(text: string): { value: unknown; duplicateKeys: string[] } {
  const value: unknown = JSON.parse(text);
  const duplicateKeys: string[] = [];
  // The text is valid JSON now: only strings, and which of them are object keys, matter.
  const objects: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        const keys = objects.at(-1)!;
        if (keys.has(key)) duplicateKeys.push(key);
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === '{') {
      objects.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      objects.push(null);
    } else if (c === '}' || c === ']') {
      objects.pop();
    } else if (c === ',') {
      expectKey = objects.at(-1) instanceof Set;
    }
  }
  return { value, duplicateKeys };
}
