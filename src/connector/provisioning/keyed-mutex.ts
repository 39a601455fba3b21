/**
 * Serialises operations per key (one key per user and tenant). A revoke in a merging tenant is two
 * writes with the list empty in between; a second operation on the same user that read the list
 * in that window would write back a wrong list. Different keys run concurrently.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      // Drop the entry once nobody queued behind us, so the map does not grow with every user touched.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
