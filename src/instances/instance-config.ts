import { parse } from 'yaml';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The instance's YAML over the plugin's base config, as maubot merges them (nested maps too). */
export function mergeConfig(base: unknown, own: unknown): Record<string, unknown> {
  const result: Record<string, unknown> = isObject(base) ? { ...base } : {};
  if (!isObject(own)) return result;
  for (const [key, value] of Object.entries(own)) {
    result[key] =
      isObject(value) && isObject(result[key]) ? mergeConfig(result[key], value) : value;
  }
  return result;
}

/** YAML text as an object; empty or invalid text is an empty config (the reason is returned). */
export function parseConfig(text: string | null): { config: unknown; error?: string } {
  if (!text || text.trim() === '') return { config: {} };
  try {
    return { config: parse(text) as unknown };
  } catch (err) {
    return { config: {}, error: err instanceof Error ? err.message : String(err) };
  }
}
