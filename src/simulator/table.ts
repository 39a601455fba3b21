/**
 * Records of one type, kept sorted by id (ids are handed out ascending, so appends keep the order)
 * so that id-range queries can binary-search instead of scanning.
 */
export class Table<T extends { id: number }> {
  private readonly rows: T[] = [];
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

  /** Binary search: no id map, which would cost several MB per 100k rows. */
  get(id: number): T | undefined {
    const row = this.rows[lowerBound(this.rows, id)];
    return row?.id === id ? row : undefined;
  }

  insert(make: (id: number) => T): T {
    const row = make(this.next++);
    this.rows.push(row);
    return row;
  }

  remove(id: number): boolean {
    const i = lowerBound(this.rows, id);
    if (this.rows[i]?.id !== id) return false;
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
