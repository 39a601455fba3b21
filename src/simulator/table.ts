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

  /**
   * Appends a record with the next id, or with `id` when given (a generated sparse layout). Ids only
   * grow, as in Coupa: `id` must be above every id handed out so far, and later records come after it.
   */
  insert(make: (id: number) => T, id?: number): T {
    if (id !== undefined) {
      if (!Number.isSafeInteger(id) || id < this.next)
        throw new RangeError(`id ${id} is not above the table's ids (next ${this.next})`);
      this.next = id;
    }
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
