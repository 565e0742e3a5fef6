import { KvStateRegistry, type QueryableState } from "../../src/server/kv_state_server.ts";
import { JobId, KvStateId } from "../../src/wire/ids.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";

function state(): QueryableState {
  return { getSerializedValue: () => null };
}

function frameWith(id: KvStateId, offset: number, length = offset + 16 + 5): Uint8Array {
  const frame = new Uint8Array(length).fill(0xee);
  id.writeTo(frame, offset);
  return frame;
}

Deno.test("KvStateRegistry.stateAt/registrationAt: found from the id bytes in a frame", () => {
  const registry = new KvStateRegistry();
  const a = state();
  const b = state();
  const jobId = JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8");
  const idA = registry.register(a, { jobId, stateName: "a" });
  const idB = registry.register(b, KvStateId.fromHex("00000000000000000000000000000001"));
  const frame = frameWith(idA, 9);
  assert(registry.stateAt(frame, 9) === a);
  assert(
    registry.registrationAt(frame, 9) === registry.registration(idA),
    "the shared registration",
  );
  assertEquals(registry.registrationAt(frame, 9)?.stateName, "a");
  assertEquals(registry.registrationAt(frame, 9)?.jobId?.toString(), jobId.toString());
  assert(registry.stateAt(frameWith(idB, 0), 0) === b);
  assertEquals(registry.registrationAt(frameWith(idB, 0), 0)?.stateName, undefined);
  // Off by one either way: other bytes, no state.
  assertEquals(registry.stateAt(frame, 8), undefined);
  assertEquals(registry.stateAt(frame, 10), undefined);
});

Deno.test("KvStateRegistry.stateAt: unknown ids, ids differing in one byte, short or bad offsets", () => {
  const registry = new KvStateRegistry();
  assertEquals(registry.stateAt(new Uint8Array(16), 0), undefined, "empty registry");
  const id = registry.register(state());
  const frame = frameWith(id, 4);
  for (let i = 0; i < 16; i++) {
    const other = frame.slice();
    other[4 + i] ^= 0x01;
    assertEquals(registry.stateAt(other, 4), undefined, `byte ${i} flipped`);
    assertEquals(registry.registrationAt(other, 4), undefined);
  }
  const exact = frameWith(id, 4, 20); // the id ends the array
  assert(registry.stateAt(exact, 4) !== undefined);
  assertEquals(registry.stateAt(exact.subarray(0, 19), 4), undefined, "15 bytes left");
  assertEquals(registry.registrationAt(exact.subarray(0, 19), 4), undefined);
  assertEquals(registry.stateAt(exact, -1), undefined);
  assertEquals(registry.stateAt(exact, 21), undefined);
  assertEquals(registry.stateAt(exact, Number.NaN), undefined);
  assertEquals(registry.size, 1, "lookups never register");
});

Deno.test("KvStateRegistry: an id registered then unregistered is gone by every door; re-registered it is back", () => {
  const registry = new KvStateRegistry();
  const s = state();
  const id = registry.register(s);
  const frame = frameWith(id, 0);
  assert(registry.stateAt(frame, 0) === s);
  assertEquals(registry.unregister(id), true);
  assertEquals(registry.unregister(id), false);
  assertEquals(
    [
      registry.stateAt(frame, 0),
      registry.registrationAt(frame, 0),
      registry.get(id),
      registry.has(id),
    ],
    [undefined, undefined, undefined, false],
  );
  assertEquals(registry.size, 0);
  const again = state();
  registry.register(again, KvStateId.fromHex(id.toString()));
  assert(registry.stateAt(frame, 0) === again);
  assert(registry.get(id) === again, "equal ids are the same key");
});

Deno.test("KvStateRegistry: 2,000 states, duplicate ids rejected, every one found by bytes and by id", () => {
  const registry = new KvStateRegistry();
  const ids: KvStateId[] = [];
  const states: QueryableState[] = [];
  for (let i = 0; i < 2000; i++) {
    states.push(state());
    ids.push(registry.register(states[i]));
  }
  assertEquals(registry.size, 2000);
  const dup = KvStateId.fromHex(ids[7].toString());
  const e = assertThrows(() => registry.register(state(), dup), TypeError);
  assertEquals(e.message, `A state is already registered with ID ${ids[7]}`);
  for (let i = 0; i < 2000; i++) {
    assert(registry.stateAt(frameWith(ids[i], 3), 3) === states[i], `state ${i}`);
    assert(registry.get(ids[i]) === states[i]);
    assertEquals(registry.registration(ids[i])?.kvStateId, ids[i]);
  }
  for (let i = 0; i < 2000; i += 3) registry.unregister(ids[i]);
  for (let i = 0; i < 2000; i++) {
    assertEquals(
      registry.stateAt(frameWith(ids[i], 0), 0) === states[i],
      i % 3 !== 0,
      `state ${i}`,
    );
  }
});
