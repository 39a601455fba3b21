/**
 * Records of one type, kept sorted by id (ids are handed out ascending, so appends keep the order)
 * so that id-range queries can binary-search instead of scanning.
 */
export class Table<T extends { id: number }> {
  private readonly rows: T[] = [];
  private readonly byId = new Map<number, T>();
  private next = 1;

  get list(): readonly T[] {
    return this.rows;
  }

  get size(): number {
    return this.rows.length;
  }

  get nextId(): number {
    return this.next;
  }

  get(id: number): T | undefined {
    return this.byId.get(id);
  }

  insert(make: (id: number) => T): T {
    const row = make(this.next++);
    this.rows.push(row);
    this.byId.set(row.id, row);
    return row;
  }

  remove(id: number): boolean {
    if (!this.byId.delete(id)) return false;
    const i = lowerBound(this.rows, id);
    this.rows.splice(i, 1);
    return true;
  }

  find(pred: (row: T) => boolean): T | undefined {
    return this.rows.find(pred);
  }
}

/** Index of the first row whose id is >= id. */
export function lowerBound(rows: readonly { id: number }[], id: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid]!.id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
