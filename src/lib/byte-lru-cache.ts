/** LRU bounded by the total size of its values, not their count. */
export class ByteLruCache<V = Buffer> {
  private readonly map = new Map<string, V>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    /** Larger entries are never cached: one would push out many small, hotter ones. */
    readonly maxEntryBytes: number,
    private readonly sizeOf: (value: V) => number = (value) => (value as unknown as Buffer).length,
  ) {}

  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    const size = this.sizeOf(value);
    if (size > this.maxEntryBytes || size > this.maxBytes) return;
    this.delete(key);
    this.map.set(key, value);
    this.bytes += size;
    while (this.bytes > this.maxBytes) {
      const oldest = this.map.entries().next();
      if (oldest.done) break;
      this.map.delete(oldest.value[0]);
      this.bytes -= this.sizeOf(oldest.value[1]);
    }
  }

  delete(key: string): void {
    const value = this.map.get(key);
    if (value === undefined) return;
    this.map.delete(key);
    this.bytes -= this.sizeOf(value);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  /** Removes every entry whose key matches (purging one file's derivatives). */
  deleteWhere(predicate: (key: string) => boolean): void {
    for (const key of [...this.map.keys()]) if (predicate(key)) this.delete(key);
  }

  get size(): number {
    return this.bytes;
  }
}
