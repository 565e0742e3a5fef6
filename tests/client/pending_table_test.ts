/** The pending-request table of a connection (slots by id, and the few set aside). */

import { PendingTable } from "../../src/client/pending_table.ts";
import { assert, assertEquals } from "../_assert.ts";
import { Prng } from "../_prng.ts";

interface Entry {
  readonly id: number;
}

Deno.test("pending table: set, get, delete by identity", () => {
  const t = new PendingTable<Entry>();
  const a = { id: 0 };
  const b = { id: 1 };
  t.set(a);
  t.set(b);
  assertEquals(t.size, 2);
  assert(t.get(0) === a);
  assert(t.get(1) === b);
  assertEquals(t.get(2), undefined);
  assertEquals(t.get(64), undefined, "same slot as 0, another id");
  assertEquals(t.delete({ id: 0 }), false, "another object with the same id is not removed");
  assert(t.get(0) === a);
  assertEquals(t.delete(a), true);
  assertEquals(t.delete(a), false, "twice");
  assertEquals(t.get(0), undefined);
  assertEquals(t.size, 1);
});

Deno.test("pending table: grows when many are in flight, all found", () => {
  const t = new PendingTable<Entry>();
  const entries = Array.from({ length: 1000 }, (_, id) => ({ id }));
  for (const e of entries) t.set(e);
  assertEquals(t.size, 1000);
  assertEquals(t.setAside, 0, "consecutive ids never collide once the slots have grown");
  assert(t.capacity >= 1000 && t.capacity <= 4096, `capacity ${t.capacity}`);
  for (const e of entries) assert(t.get(e.id) === e);
  assertEquals(new Set(t.values()).size, 1000);
});

Deno.test("pending table: a request outliving a turn of the slots is set aside, still found", () => {
  const t = new PendingTable<Entry>();
  const old = { id: 0 };
  t.set(old);
  // 16 in flight at a time for 10,000 ids: the slots do not grow for one straggler.
  const live: Entry[] = [];
  for (let id = 1; id <= 10_000; id++) {
    const e = { id };
    t.set(e);
    live.push(e);
    if (live.length > 16) assert(t.delete(live.shift()!));
  }
  assertEquals(t.capacity, 64);
  assertEquals(t.setAside, 1);
  assert(t.get(0) === old);
  assertEquals(t.get(64), undefined);
  assertEquals(t.size, 17);
  assert(t.values().includes(old));
  assertEquals(t.values().length, 17);
  assert(t.delete(old));
  assertEquals(t.setAside, 0);
  assertEquals(t.get(0), undefined);
});

Deno.test("pending table: trim gives back the slots of a burst and takes set-aside entries back", () => {
  const t = new PendingTable<Entry>();
  const entries = Array.from({ length: 5000 }, (_, id) => ({ id }));
  for (const e of entries) t.set(e);
  const big = t.capacity;
  assert(big >= 8192, `capacity ${big}`);
  for (const e of entries.slice(0, 4990)) t.delete(e);
  t.trim();
  assertEquals(t.capacity, 64);
  assertEquals(t.size, 10);
  for (const e of entries.slice(4990)) assert(t.get(e.id) === e);
  // A straggler set aside comes back into the slots when its slot is free.
  const u = new PendingTable<Entry>();
  const straggler = { id: 0 };
  u.set(straggler);
  u.set({ id: 64 });
  assertEquals(u.setAside, 1);
  assert(u.delete(u.get(64)!));
  u.trim();
  assertEquals(u.setAside, 0);
  assert(u.get(0) === straggler);
});

Deno.test("pending table: ids past 2^32 (a long-lived connection)", () => {
  const t = new PendingTable<Entry>();
  const base = 2 ** 40 + 5;
  const entries = Array.from({ length: 300 }, (_, i) => ({ id: base + i }));
  for (const e of entries) t.set(e);
  for (const e of entries) assert(t.get(e.id) === e);
  assertEquals(t.get(base - 2 ** 32), undefined, "same low 32 bits, another id");
  for (const e of entries) assert(t.delete(e));
  assertEquals(t.size, 0);
});

Deno.test("pending table: clear", () => {
  const t = new PendingTable<Entry>();
  for (let id = 0; id < 500; id++) t.set({ id });
  t.clear();
  assertEquals(t.size, 0);
  assertEquals(t.capacity, 64);
  assertEquals(t.get(3), undefined);
  assertEquals(t.values(), []);
});

Deno.test("pending table: behaves as a Map under random traffic (out-of-order answers, stragglers)", () => {
  const rng = new Prng(9);
  const t = new PendingTable<Entry>();
  const model = new Map<number, Entry>();
  let next = 0;
  for (let step = 0; step < 50_000; step++) {
    const r = rng.int(100);
    if (r < 50 || model.size === 0) {
      const e = { id: next++ };
      t.set(e);
      model.set(e.id, e);
    } else if (r < 95) {
      // Mostly recent requests are answered; now and then an old one.
      const ids = [...model.keys()];
      const id = rng.int(10) === 0
        ? ids[rng.int(ids.length)]
        : ids[Math.max(0, ids.length - 1 - rng.int(40))];
      assertEquals(t.delete(model.get(id)!), true);
      model.delete(id);
    } else if (r < 99) {
      const id = rng.int(next + 10);
      assert(t.get(id) === model.get(id), `get ${id}`);
    } else {
      t.trim();
    }
    if (step % 997 === 0) {
      assertEquals(t.size, model.size);
      for (const [id, e] of model) assert(t.get(id) === e);
    }
  }
  assertEquals(new Set(t.values()), new Set(model.values()));
});
