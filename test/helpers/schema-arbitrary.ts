import fc from 'fast-check';

/** A JSON Schema (OpenAPI 3.1 flavour) as it appears in the specs. */
export type Schema = Record<string, unknown>;

export interface SchemaArbitraryOptions {
  /** The whole spec, for `$ref`s. */
  spec: Record<string, unknown>;
  /** Values used for string properties with these names instead of random text. */
  fixedStrings?: Record<string, readonly string[]>;
  /** Depth below which nested schemas are generated as null. */
  maxDepth?: number;
}

function resolve(spec: Record<string, unknown>, schema: Schema): Schema {
  let current = schema;
  for (let i = 0; i < 20 && typeof current.$ref === 'string'; i++) {
    const parts = current.$ref.replace(/^#\//, '').split('/');
    let node: unknown = spec;
    for (const part of parts) node = (node as Record<string, unknown>)[part];
    current = {
      ...(node as Schema),
      ...Object.fromEntries(Object.entries(current).filter(([k]) => k !== '$ref')),
    };
  }
  return current;
}

function typesOf(schema: Schema): string[] {
  const type = schema.type;
  if (Array.isArray(type)) return type as string[];
  if (typeof type === 'string') return [type];
  if (schema.properties) return ['object'];
  if (schema.items) return ['array'];
  return ['string', 'integer', 'boolean', 'object', 'null'];
}

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constantFrom('', 'a', '@user:example.org', '!room:example.org', 'https://example.org'),
);

/**
 * Values that mostly match a schema (the specs' patterns and formats are only approximated), so
 * that requests reach the handlers and not only the validator.
 */
export function schemaArbitrary(
  schema: Schema,
  options: SchemaArbitraryOptions,
  depth = 0,
  name = '',
): fc.Arbitrary<unknown> {
  const maxDepth = options.maxDepth ?? 4;
  const s = resolve(options.spec, schema);
  if (depth > maxDepth) return fc.constant(null);
  if ('const' in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  const alternatives = (s.oneOf ?? s.anyOf) as Schema[] | undefined;
  if (alternatives) {
    return fc.oneof(...alternatives.map((a) => schemaArbitrary(a, options, depth + 1, name)));
  }
  if (Array.isArray(s.allOf)) {
    const merged = (s.allOf as Schema[])
      .map((part) => resolve(options.spec, part))
      .reduce<Schema>(
        (acc, part) => ({
          ...acc,
          ...part,
          properties: { ...(acc.properties as Schema), ...(part.properties as Schema) },
          required: [...((acc.required as string[]) ?? []), ...((part.required as string[]) ?? [])],
        }),
        {},
      );
    return schemaArbitrary(merged, options, depth, name);
  }
  const fixed = options.fixedStrings?.[name];
  const byType = typesOf(s).map((type): fc.Arbitrary<unknown> => {
    switch (type) {
      case 'string':
        if (fixed) return fc.constantFrom(...fixed);
        if (Array.isArray(s.examples) && s.examples.length > 0) {
          return fc.oneof(fc.constantFrom(...(s.examples as unknown[])), text);
        }
        return text;
      case 'integer':
        return fc.oneof(
          fc.integer({ min: -2, max: 1000 }),
          fc.constantFrom(0, 1, 2 ** 31, -(2 ** 53)),
        );
      case 'number':
        return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer());
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      case 'array': {
        const items = (s.items as Schema | undefined) ?? {};
        return fc.array(schemaArbitrary(items, options, depth + 1, name), { maxLength: 3 });
      }
      default: {
        const properties = (s.properties as Record<string, Schema> | undefined) ?? {};
        const required = new Set((s.required as string[] | undefined) ?? []);
        const shape: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [key, sub] of Object.entries(properties)) {
          shape[key] = schemaArbitrary(sub, options, depth + 1, key);
        }
        const keys = Object.keys(shape);
        const known = fc.record(shape, {
          requiredKeys: keys.filter((k) => required.has(k)),
        });
        if (s.additionalProperties === false || keys.length > 0) return known;
        return fc.dictionary(fc.string({ maxLength: 6 }), text, { maxKeys: 3 });
      }
    }
  });
  return byType.length === 1 ? byType[0]! : fc.oneof(...byType);
}
