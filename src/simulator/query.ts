import { badRequest } from './errors.js';
import type { ResourceSchema, ScalarDef } from './schema.js';
import { lowerBound } from './table.js';
import { hyphenate } from './tenant.js';

export const PAGE_SIZE = 50;
const OPERATORS = [
  'eq',
  'contains',
  'starts_with',
  'ends_with',
  'gt',
  'lt',
  'gt_or_eq',
  'lt_or_eq',
  'not_eq',
  'in',
  'not_in',
  'blank',
] as const;
type Operator = (typeof OPERATORS)[number];
/** Query parameters that are not filters. */
const RESERVED = new Set([
  'limit',
  'offset',
  'order_by',
  'order-by',
  'dir',
  'fields',
  'return_object',
  'return-object',
  'filter',
]);

export interface Filter {
  /** Association names walked before the attribute, e.g. ['roles'] for `roles[id]`. */
  path: string[];
  attr: string;
  op: Operator;
  value: string;
  test: (rec: unknown) => boolean;
}

export interface IndexQuery {
  filters: Filter[];
  orderBy: string;
  dir: 'asc' | 'desc';
  explicitOrder: boolean;
  limit: number;
  offset: number;
}

export function parseIndexQuery(params: URLSearchParams, schema: ResourceSchema<unknown>): IndexQuery {
  const filters: Filter[] = [];
  for (const [key, value] of params) {
    if (RESERVED.has(key)) continue;
    filters.push(parseFilter(key, value, schema));
  }
  const orderParam = params.get('order_by') ?? params.get('order-by');
  const orderBy = orderParam ? hyphenate(orderParam) : 'id';
  if (!schema.scalars[orderBy])
    throw badRequest(schema.errorKey, `Unknown order_by attribute "${orderParam}"`);
  const dirParam = (params.get('dir') ?? 'asc').toLowerCase();
  if (dirParam !== 'asc' && dirParam !== 'desc')
    throw badRequest(schema.errorKey, `dir must be asc or desc, got "${dirParam}"`);
  const limitRaw = Number(params.get('limit'));
  const offsetRaw = Number(params.get('offset'));
  return {
    filters,
    orderBy,
    dir: dirParam,
    explicitOrder: orderParam !== null,
    // Coupa never returns more than 50 records, whatever the client asks for.
    limit: Number.isInteger(limitRaw) && limitRaw > 0 ? Math.min(limitRaw, PAGE_SIZE) : PAGE_SIZE,
    offset: Number.isInteger(offsetRaw) && offsetRaw > 0 ? offsetRaw : 0,
  };
}

function parseFilter(key: string, value: string, root: ResourceSchema<unknown>): Filter {
  const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!m) throw badRequest(root.errorKey, `Malformed query parameter "${key}"`);
  const names = [m[1]!, ...[...m[2]!.matchAll(/\[([^[\]]*)\]/g)].map((x) => x[1]!)];
  let op: Operator = 'eq';
  const last = names[names.length - 1]!;
  if (names.length > 1 && (OPERATORS as readonly string[]).includes(last)) {
    op = last as Operator;
    names.pop();
  }
  const path: string[] = [];
  let schema = root;
  for (const raw of names.slice(0, -1)) {
    const name = hyphenate(raw);
    const rel = schema.relations[name];
    if (!rel) throw badRequest(root.errorKey, `Unknown association "${raw}" in filter "${key}"`);
    path.push(name);
    schema = rel.target();
  }
  const attr = hyphenate(names[names.length - 1]!);
  const scalar = schema.scalars[attr];
  const relation = schema.relations[attr];
  if (!scalar && !(relation && op === 'blank'))
    throw badRequest(root.errorKey, `Unknown attribute "${names[names.length - 1]}" in filter "${key}"`);
  const leaf = scalar
    ? compileScalar(scalar, op, value, root.errorKey, key)
    : compileRelationBlank(relation!, value);
  const walk = (rec: unknown, depth: number): boolean => {
    if (depth === path.length) return leaf(rec);
    let s = root;
    for (let i = 0; i < depth; i++) s = s.relations[path[i]!]!.target();
    const v = s.relations[path[depth]!]!.get(rec);
    // SQL-join semantics: an association filter matches when any associated record matches.
    if (Array.isArray(v)) return v.some((x) => walk(x, depth + 1));
    return v !== null && v !== undefined && walk(v, depth + 1);
  };
  return { path, attr, op, value, test: (rec) => walk(rec, 0) };
}

function compileRelationBlank(rel: { get(r: unknown): unknown }, value: string): (rec: unknown) => boolean {
  const want = parseBool(value);
  return (rec) => {
    const v = rel.get(rec);
    const blank = v === null || v === undefined || (Array.isArray(v) && v.length === 0);
    return blank === want;
  };
}

function parseBool(value: string): boolean {
  return value.toLowerCase() === 'true' || value === '1';
}

/** Parses a filter value into the comparable form of the attribute's type (null = unparseable). */
function toComparable(def: ScalarDef<unknown>, value: string): number | string | boolean | null {
  switch (def.kind) {
    case 'integer':
    case 'decimal': {
      const n = Number(value);
      return value.trim() === '' || Number.isNaN(n) ? null : n;
    }
    case 'boolean':
      return parseBool(value);
    case 'datetime': {
      // A time without an offset is taken as UTC, the instance's zone.
      const withZone = /(?:Z|[+-]\d\d:?\d\d)$/.test(value) || !value.includes('T') ? value : `${value}Z`;
      const ms = Date.parse(withZone);
      return Number.isNaN(ms) ? null : ms;
    }
    case 'string':
      return value.toLowerCase();
  }
}

function compileScalar(
  def: ScalarDef<unknown>,
  op: Operator,
  value: string,
  errorKey: string,
  key: string,
): (rec: unknown) => boolean {
  const read = (rec: unknown): number | string | boolean | null => {
    const v = def.get(rec);
    if (v === null || v === undefined) return null;
    // String comparisons ignore case, as Coupa's MySQL collation does.
    return typeof v === 'string' && def.kind === 'string'
      ? v.toLowerCase()
      : def.kind === 'decimal'
        ? Number(v)
        : v;
  };
  if (op === 'blank') {
    const want = parseBool(value);
    return (rec) => {
      const v = def.get(rec);
      return (v === null || v === undefined || v === '') === want;
    };
  }
  if (op === 'in' || op === 'not_in') {
    const items = value.split(',').map((x) => toComparable(def, x.trim()));
    const negate = op === 'not_in';
    return (rec) => {
      const v = read(rec);
      if (v === null) return false;
      return items.includes(v) !== negate;
    };
  }
  if ((op === 'contains' || op === 'starts_with' || op === 'ends_with') && def.kind !== 'string') {
    throw badRequest(errorKey, `Operator ${op} works on text attributes only (filter "${key}")`);
  }
  const want = toComparable(def, value);
  if (want === null)
    throw badRequest(errorKey, `Cannot compare ${def.kind} attribute with "${value}" (filter "${key}")`);
  return (rec) => {
    const v = read(rec);
    if (v === null) return false;
    switch (op) {
      case 'eq':
        return v === want;
      case 'not_eq':
        return v !== want;
      case 'contains':
        return (v as string).includes(want as string);
      case 'starts_with':
        return (v as string).startsWith(want as string);
      case 'ends_with':
        return (v as string).endsWith(want as string);
      case 'gt':
        return v > want;
      case 'lt':
        return v < want;
      case 'gt_or_eq':
        return v >= want;
      case 'lt_or_eq':
        return v <= want;
    }
  };
}

/** Stable pseudo-random order keyed by id, for tenants that must not look id-sorted. */
function shuffleKey(id: number): number {
  let h = Math.imul(id ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Runs an index query. When the order is by id (the default) it walks the id-sorted rows from a
 * binary-searched start and stops once the page is full, so keyset paging (`id[gt]=N`) over 100k
 * users costs about as much as the page itself; other orders fall back to filter + sort.
 */
export function runIndex<R extends { id: number }>(
  rows: readonly R[],
  schema: ResourceSchema<unknown>,
  q: IndexQuery,
  defaultOrder: 'id' | 'shuffled' = 'id',
): R[] {
  const matches = (r: R) => q.filters.every((f) => f.test(r));
  const wanted = q.offset + q.limit;
  if (q.orderBy === 'id' && (q.explicitOrder || defaultOrder === 'id')) {
    let lo = 0;
    let hi = rows.length;
    for (const f of q.filters) {
      if (f.path.length || f.attr !== 'id') continue;
      const n = Number(f.value);
      if (!Number.isFinite(n)) continue;
      if (f.op === 'gt') lo = Math.max(lo, lowerBound(rows, Math.floor(n) + 1));
      else if (f.op === 'gt_or_eq') lo = Math.max(lo, lowerBound(rows, Math.ceil(n)));
      else if (f.op === 'lt') hi = Math.min(hi, lowerBound(rows, Math.ceil(n)));
      else if (f.op === 'lt_or_eq') hi = Math.min(hi, lowerBound(rows, Math.floor(n) + 1));
      else if (f.op === 'eq') {
        lo = Math.max(lo, lowerBound(rows, n));
        hi = Math.min(hi, lowerBound(rows, n + 1));
      }
    }
    const out: R[] = [];
    let skipped = 0;
    const step = q.dir === 'asc' ? 1 : -1;
    for (let i = q.dir === 'asc' ? lo : hi - 1; i >= lo && i < hi && out.length < q.limit; i += step) {
      const r = rows[i]!;
      if (!matches(r)) continue;
      if (skipped < q.offset) skipped++;
      else out.push(r);
    }
    return out;
  }
  const found = rows.filter(matches);
  if (q.orderBy === 'id' && !q.explicitOrder) {
    found.sort((a, b) => shuffleKey(a.id) - shuffleKey(b.id) || a.id - b.id);
  } else {
    const def = schema.scalars[q.orderBy]!;
    const sign = q.dir === 'asc' ? 1 : -1;
    found.sort((a, b) => {
      const va = def.get(a);
      const vb = def.get(b);
      // NULLs sort first ascending, as in MySQL.
      if (va === vb) return a.id - b.id;
      if (va === null) return -sign;
      if (vb === null) return sign;
      const c = typeof va === 'string' && typeof vb === 'string' ? va.localeCompare(vb) : va < vb ? -1 : 1;
      return c * sign || a.id - b.id;
    });
  }
  return found.slice(q.offset, wanted);
}
