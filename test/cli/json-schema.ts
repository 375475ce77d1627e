// A small JSON Schema (2020-12) validator for the subset docs/cli-events.schema.json uses: type,
// const, enum, properties, required, additionalProperties, items, oneOf, anyOf, local $ref,
// pattern, minimum, maximum, minLength. A keyword outside the subset is an error, so the schema
// cannot use one that this validator would silently ignore.

export type Schema = boolean | { readonly [keyword: string]: unknown };

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', '$defs']);
const KEYWORDS = new Set([
  'type',
  'const',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'oneOf',
  'anyOf',
  '$ref',
  'pattern',
  'minimum',
  'maximum',
  'minLength',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function hasType(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  return actual === t || (t === 'number' && actual === 'integer');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every violation of `schema` by `value`, as "path: what" lines (empty when it validates). */
export function validate(root: Schema, value: unknown): string[] {
  const errors: string[] = [];
  check(root, root, value, '$', errors);
  return errors;
}

function resolve(root: Schema, ref: string): Schema {
  const m = /^#\/\$defs\/(.+)$/.exec(ref);
  const defs = isObject(root) ? root['$defs'] : undefined;
  const target = m !== null && isObject(defs) ? defs[m[1] ?? ''] : undefined;
  if (target === undefined || (typeof target !== 'boolean' && !isObject(target)))
    throw new Error(`unresolved $ref ${ref}`);
  return target;
}

function check(root: Schema, schema: Schema, v: unknown, path: string, errors: string[]): void {
  if (schema === true) return;
  if (schema === false) {
    errors.push(`${path}: not allowed`);
    return;
  }
  for (const k of Object.keys(schema))
    if (!KEYWORDS.has(k) && !ANNOTATIONS.has(k))
      throw new Error(`schema keyword ${k} at ${path} is not supported`);
  const s = schema as Record<string, unknown>;
  if (typeof s['$ref'] === 'string') check(root, resolve(root, s['$ref']), v, path, errors);
  if (s['type'] !== undefined) {
    const types = Array.isArray(s['type']) ? (s['type'] as string[]) : [s['type'] as string];
    if (!types.some((t) => hasType(v, t))) {
      errors.push(`${path}: ${JSON.stringify(v)} is not of type ${types.join(' or ')}`);
      return;
    }
  }
  if ('const' in s && JSON.stringify(v) !== JSON.stringify(s['const']))
    errors.push(`${path}: ${JSON.stringify(v)} is not ${JSON.stringify(s['const'])}`);
  if (Array.isArray(s['enum']) && !s['enum'].some((e) => JSON.stringify(e) === JSON.stringify(v)))
    errors.push(`${path}: ${JSON.stringify(v)} is not one of ${JSON.stringify(s['enum'])}`);
  if (typeof v === 'string') {
    if (typeof s['pattern'] === 'string' && !new RegExp(s['pattern'], 'u').test(v))
      errors.push(`${path}: "${v}" does not match ${s['pattern']}`);
    if (typeof s['minLength'] === 'number' && Array.from(v).length < s['minLength'])
      errors.push(`${path}: "${v}" is shorter than ${s['minLength']}`);
  }
  if (typeof v === 'number') {
    if (typeof s['minimum'] === 'number' && v < s['minimum']) errors.push(`${path}: ${v} < ${s['minimum']}`);
    if (typeof s['maximum'] === 'number' && v > s['maximum']) errors.push(`${path}: ${v} > ${s['maximum']}`);
  }
  if (isObject(v)) {
    const props = isObject(s['properties']) ? s['properties'] : {};
    if (Array.isArray(s['required']))
      for (const r of s['required'] as string[]) if (!(r in v)) errors.push(`${path}: missing "${r}"`);
    for (const [k, sub] of Object.entries(v)) {
      const p = props[k];
      if (p !== undefined) check(root, p as Schema, sub, `${path}.${k}`, errors);
      else if (s['additionalProperties'] !== undefined)
        check(root, s['additionalProperties'] as Schema, sub, `${path}.${k}`, errors);
    }
  }
  if (Array.isArray(v) && s['items'] !== undefined)
    v.forEach((item, i) => check(root, s['items'] as Schema, item, `${path}[${i}]`, errors));
  for (const [kw, exactlyOne] of [
    ['oneOf', true],
    ['anyOf', false],
  ] as const) {
    const alts = s[kw];
    if (!Array.isArray(alts)) continue;
    const results = alts.map((alt) => {
      const e: string[] = [];
      check(root, alt as Schema, v, path, e);
      return e;
    });
    const passing = results.filter((e) => e.length === 0).length;
    if (passing === 0) {
      // Name the closest alternative: the one with the fewest violations.
      const best = results.reduce((a, b) => (b.length < a.length ? b : a));
      errors.push(`${path}: matches no alternative of ${kw}; closest: ${best.join('; ')}`);
    } else if (exactlyOne && passing > 1) errors.push(`${path}: matches ${passing} alternatives of oneOf`);
  }
}
