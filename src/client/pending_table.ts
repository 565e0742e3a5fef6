/**
 * The requests a connection waits answers for, by request id.
 *
 * @module
 */

/** The smallest slot array (a power of two). */
const INITIAL_SLOTS = 64;

/**
 * @internal The pending requests of one connection, by request id: a slot
 * array indexed by the id's low bits (a connection hands out ids one after
 * the other, so the requests in flight fall in distinct slots), and a `Map`
 * for the few that outlive a whole turn of the slots.
 *
 * Why not a `Map` alone: a JS `Map` with one insertion and one deletion per
 * request reallocates its table every few hundred requests, and V8 links each
 * obsolete table to its successor (for iterators). Once one table has been
 * promoted to the old generation (any full GC does that to the live one), the
 * chain from that dead table keeps every later table, the requests they held
 * and everything those requests reach alive through each scavenge: they are
 * all promoted, the old generation fills, and full GCs follow one another
 * (measured on the proxy's forwarding path: the young generation's survival
 * rate went from ~0 to ~36%, the heap doubled and CPU per request rose ~50%).
 * The slot array is one array that lives as long as the connection and
 * drops its references as requests settle: nothing is reallocated per
 * request.
 *
 * @example
 * ```ts
 * import { PendingTable } from "./pending_table.ts";
 *
 * const table = new PendingTable<{ id: number }>();
 * const a = { id: 0 };
 * table.set(a);
 * table.get(0) === a; // => true
 * table.delete(a);
 * table.size; // => 0
 * ```
 */
export class PendingTable<T extends { readonly id: number }> {
  #slots: (T | undefined)[] = new Array(INITIAL_SLOTS).fill(undefined);
  #mask = INITIAL_SLOTS - 1;
  /** Entries in the slots. */
  #inSlots = 0;
  /** Entries whose slot a later id took while they were still pending. */
  #overflow: Map<number, T> | undefined;

  /** The number of entries. */
  get size(): number {
    return this.#inSlots + (this.#overflow?.size ?? 0);
  }

  /** The number of slots (a power of two); the memory the table holds. */
  get capacity(): number {
    return this.#slots.length;
  }

  /** The entries kept outside the slots (their slot went to a later id). */
  get setAside(): number {
    return this.#overflow?.size ?? 0;
  }

  /**
   * Adds an entry under its id (a non-negative integer, not already present).
   *
   * @param entry The entry.
   */
  set(entry: T): void {
    const i = entry.id & this.#mask;
    const there = this.#slots[i];
    if (there === undefined) {
      this.#slots[i] = entry;
      this.#inSlots++;
      return;
    }
    this.#collide(entry, there);
  }

  /** An id's slot is taken by an older entry: grow when the slots are busy, else move it aside. */
  #collide(entry: T, there: T): void {
    if (2 * this.#inSlots >= this.#slots.length) {
      this.#resize(2 * this.#slots.length);
      this.set(entry);
      return;
    }
    (this.#overflow ??= new Map()).set(there.id, there);
    this.#slots[entry.id & this.#mask] = entry;
  }

  /**
   * @param id The id.
   * @returns The entry with that id, if any.
   */
  get(id: number): T | undefined {
    const e = this.#slots[id & this.#mask];
    if (e !== undefined && e.id === id) return e;
    return this.#overflow === undefined || this.#overflow.size === 0
      ? undefined
      : this.#overflow.get(id);
  }

  /**
   * Removes an entry (nothing if that very entry is not present).
   *
   * @param entry The entry.
   * @returns Whether it was present.
   */
  delete(entry: T): boolean {
    const i = entry.id & this.#mask;
    if (this.#slots[i] === entry) {
      this.#slots[i] = undefined;
      this.#inSlots--;
      return true;
    }
    const overflow = this.#overflow;
    if (overflow === undefined || overflow.get(entry.id) !== entry) return false;
    overflow.delete(entry.id);
    return true;
  }

  /** @returns A copy of the entries, in no particular order. */
  values(): T[] {
    const out: T[] = [];
    for (const e of this.#slots) if (e !== undefined) out.push(e);
    if (this.#overflow !== undefined) { for (const e of this.#overflow.values()) out.push(e); }
    return out;
  }

  /** Removes every entry, and gives back the memory of a large table. */
  clear(): void {
    this.#slots = new Array(INITIAL_SLOTS).fill(undefined);
    this.#mask = INITIAL_SLOTS - 1;
    this.#inSlots = 0;
    this.#overflow = undefined;
  }

  /**
   * Shrinks the slots when they are mostly empty (after a burst), and takes
   * the entries set aside back into them when there is room. Meant for a
   * periodic tick, not for every request.
   */
  trim(): void {
    let n = this.#slots.length;
    while (n > INITIAL_SLOTS && 8 * this.size < n) n >>= 1;
    if (n !== this.#slots.length || (this.#overflow?.size ?? 0) > 0) this.#resize(n);
  }

  #resize(n: number): void {
    const old = this.values();
    this.#slots = new Array(n).fill(undefined);
    this.#mask = n - 1;
    this.#inSlots = 0;
    this.#overflow = undefined;
    // Newest first: an older entry that collides is the one set aside.
    old.sort((a, b) => b.id - a.id);
    for (const e of old) {
      const i = e.id & this.#mask;
      if (this.#slots[i] === undefined) {
        this.#slots[i] = e;
        this.#inSlots++;
      } else (this.#overflow ??= new Map()).set(e.id, e);
    }
  }
}
