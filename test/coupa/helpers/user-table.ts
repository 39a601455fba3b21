import type { ServerResponse } from 'node:http';
import { json, type RecordedRequest } from './fake-coupa.js';

export interface Row {
  id: number;
  login: string;
  active?: boolean;
}

/**
 * The part of Coupa's index semantics keyset pagination relies on: order_by=id with dir,
 * id[gt] / id[lt] / id[lt_or_eq] filters, offset, limit capped at 50, plus any equality filter on
 * a column.
 */
export function serveIndex(rows: Row[], req: RecordedRequest, res: ServerResponse): void {
  const q = req.url.searchParams;
  let list = rows.slice().sort((a, b) => a.id - b.id);
  if (q.get('order_by') === 'id' && q.get('dir') === 'desc') list.reverse();
  const gt = q.get('id[gt]');
  if (gt !== null) list = list.filter((r) => r.id > Number(gt));
  const lt = q.get('id[lt]');
  if (lt !== null) list = list.filter((r) => r.id < Number(lt));
  const le = q.get('id[lt_or_eq]');
  if (le !== null) list = list.filter((r) => r.id <= Number(le));
  const active = q.get('active');
  if (active !== null) list = list.filter((r) => String(r.active ?? true) === active);
  const limit = Math.min(50, Number(q.get('limit') ?? 50));
  const offset = Number(q.get('offset') ?? 0);
  json(res, 200, list.slice(offset, offset + limit));
}

export function denseRows(n: number, from = 1): Row[] {
  return Array.from({ length: n }, (_, i) => ({ id: from + i, login: `user${from + i}` }));
}
