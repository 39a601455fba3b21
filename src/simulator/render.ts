import { hyphenate } from './tenant.js';
import type { ResourceSchema, ScalarDef, ScalarValue } from './schema.js';

/** A parsed `fields` parameter: attribute names, and `{association: [sub-fields]}` objects. */
export type FieldSpec = Array<string | { [relation: string]: FieldSpec }>;
export type RenderMode = 'full' | 'embedded' | 'shallow' | 'limited' | FieldSpec;
export type Rendered = { [key: string]: unknown };

/** Coupa prints timestamps with an offset; the simulator's instance runs in UTC. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

export function scalarOutput(def: ScalarDef<unknown>, rec: unknown): ScalarValue {
  const v = def.get(rec);
  if (v === null || v === undefined) return null;
  if (def.kind === 'datetime') return formatTimestamp(v as number);
  return v;
}

/** Builds the JSON-shaped object of one record; called per response so nothing is cached. */
export function render(schema: ResourceSchema<unknown>, rec: unknown, mode: RenderMode): Rendered {
  const out: Rendered = {};
  if (mode === 'limited') {
    out['id'] = schema.scalars['id']?.get(rec) ?? null;
    return out;
  }
  if (Array.isArray(mode)) {
    for (const item of mode) {
      if (typeof item === 'string') {
        const key = hyphenate(item);
        const scalar = schema.scalars[key];
        if (scalar) out[key] = scalarOutput(scalar, rec);
        else if (schema.relations[key]) out[key] = renderRelation(schema, rec, key, 'embedded');
        // Unknown names are ignored, as Coupa does.
      } else if (item && typeof item === 'object') {
        for (const [name, sub] of Object.entries(item)) {
          const key = hyphenate(name);
          if (!schema.relations[key]) continue;
          const subMode: RenderMode = Array.isArray(sub) && sub.length > 0 ? sub : 'embedded';
          out[key] = renderRelation(schema, rec, key, subMode);
        }
      }
    }
    return out;
  }
  const names = mode === 'embedded' && schema.embedded ? schema.embedded : Object.keys(schema.scalars);
  for (const key of names) {
    const def = schema.scalars[key];
    if (def) out[key] = scalarOutput(def, rec);
  }
  if (mode === 'full' || mode === 'shallow') {
    for (const key of Object.keys(schema.relations)) {
      out[key] = renderRelation(schema, rec, key, mode === 'full' ? 'embedded' : 'key');
    }
  }
  return out;
}

function renderRelation(
  schema: ResourceSchema<unknown>,
  rec: unknown,
  key: string,
  mode: RenderMode | 'key',
): unknown {
  const rel = schema.relations[key]!;
  const target = rel.target();
  const value = rel.get(rec);
  const one = (r: unknown): Rendered => {
    if (mode !== 'key') return render(target, r, mode);
    const o: Rendered = {};
    for (const k of ['id', target.naturalKey]) {
      const def = target.scalars[k];
      if (def) o[k] = scalarOutput(def, r);
    }
    return o;
  };
  if (rel.many) return (value as unknown[]).map(one);
  return value === null || value === undefined ? null : one(value);
}
