/**
 * Ready-made queryable states kept in memory: value, list and map state with
 * Flink's type serializers, so a test harness can serve typed fixture data
 * in a few lines.
 *
 * Keys are identified by their serialized bytes, as Flink's RocksDB backend
 * identifies them, so two keys are the same exactly when Java would say so
 * (e.g. `0.0` and `-0.0` are different double keys).
 *
 * @module
 */

import { toHex } from "../wire/bytes.ts";
import { deserializeKeyAndNamespace } from "../wire/key_and_namespace.ts";
import { encodeListContent, encodeMapContent, encodeValueContent } from "../wire/state_content.ts";
import { serializeValue, type TypeSerializer } from "../wire/type_serializers.ts";
import type { QueryableState } from "./kv_state_server.ts";

/**
 * The common part of the in-memory states: a map from serialized key to the
 * key's value and its encoded content, answering state server lookups.
 *
 * @example
 * ```ts
 * import { InMemoryState, InMemoryValueState, TYPE_SERIALIZERS } from "@kvstate/queryable-state";
 *
 * const s: InMemoryState<string | null, bigint> = new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.long);
 * s.size; // => 0
 * ```
 */
export abstract class InMemoryState<K, E> implements QueryableState {
  /** The key serializer. */
  readonly keySerializer: TypeSerializer<K>;
  /** The entries, by hex of the serialized key. */
  protected readonly entries: Map<string, { key: K; value: E; content: Uint8Array }> = new Map();

  /**
   * Creates an empty state.
   *
   * @param keySerializer The key type.
   */
  constructor(keySerializer: TypeSerializer<K>) {
    this.keySerializer = keySerializer;
  }

  /**
   * The identity of a key: the hex of its serialized bytes.
   *
   * @param key The key.
   * @returns The identity.
   */
  protected id(key: K): string {
    return toHex(serializeValue(this.keySerializer, key));
  }

  /**
   * Serializes one key's content for the wire.
   *
   * @param value The key's value.
   * @returns The content bytes.
   */
  protected abstract encode(value: E): Uint8Array;

  /**
   * Sets a key's value and its encoded content.
   *
   * @param key The key.
   * @param value The value.
   */
  protected store(key: K, value: E): void {
    this.entries.set(this.id(key), { key, value, content: this.encode(value) });
  }

  /**
   * Removes a key.
   *
   * @param key The key.
   * @returns Whether it was present.
   */
  delete(key: K): boolean {
    return this.entries.delete(this.id(key));
  }

  /**
   * Whether a key is present.
   *
   * @param key The key.
   * @returns `true` when present.
   */
  has(key: K): boolean {
    return this.entries.has(this.id(key));
  }

  /** Removes every key. */
  clear(): void {
    this.entries.clear();
  }

  /** The number of keys. */
  get size(): number {
    return this.entries.size;
  }

  /** The keys, in insertion order. */
  keys(): K[] {
    return [...this.entries.values()].map((e) => e.key);
  }

  /**
   * Answers a state server request: validates the key bytes with the key
   * serializer (throwing Flink's `IOException` on a mismatch) and returns
   * the key's content, or `null` when absent.
   *
   * @param serializedKeyAndNamespace Key, 42, VoidNamespace.
   * @returns The serialized content, or `null`.
   */
  getSerializedValue(serializedKeyAndNamespace: Uint8Array): Uint8Array | null {
    deserializeKeyAndNamespace(serializedKeyAndNamespace, this.keySerializer);
    const keyBytes = serializedKeyAndNamespace.subarray(0, serializedKeyAndNamespace.length - 2);
    return this.entries.get(toHex(keyBytes))?.content ?? null;
  }
}

/**
 * A value state (`ValueState<V>` keyed by `K`), also the shape of reducing
 * and aggregating state content.
 *
 * @example
 * ```ts
 * import { InMemoryValueState, TYPE_SERIALIZERS } from "@kvstate/queryable-state";
 *
 * const counts = new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.long);
 * counts.set("hello", 42n);
 * counts.get("hello"); // => 42n
 * ```
 */
export class InMemoryValueState<K, V> extends InMemoryState<K, V> {
  /** The value serializer. */
  readonly valueSerializer: TypeSerializer<V>;

  /**
   * Creates a InMemoryValueState.
   *
   * @param keySerializer The key type.
   * @param valueSerializer The value type.
   */
  constructor(keySerializer: TypeSerializer<K>, valueSerializer: TypeSerializer<V>) {
    super(keySerializer);
    this.valueSerializer = valueSerializer;
  }

  /** Serializes one key's content for the wire. */
  protected encode(value: V): Uint8Array {
    return encodeValueContent(this.valueSerializer, value);
  }

  /**
   * Sets a key's value.
   *
   * @param key The key.
   * @param value The value.
   * @returns This state.
   */
  set(key: K, value: V): this {
    this.store(key, value);
    return this;
  }

  /**
   * A key's value.
   *
   * @param key The key.
   * @returns The value, or `undefined`.
   */
  get(key: K): V | undefined {
    return this.entries.get(this.id(key))?.value;
  }
}

/**
 * A list state (`ListState<V>` keyed by `K`).
 *
 * @example
 * ```ts
 * import { InMemoryListState, TYPE_SERIALIZERS } from "@kvstate/queryable-state";
 *
 * const events = new InMemoryListState(TYPE_SERIALIZERS.int, TYPE_SERIALIZERS.string);
 * events.add(7, "login").add(7, "logout");
 * events.get(7); // => ["login", "logout"]
 * ```
 */
export class InMemoryListState<K, V> extends InMemoryState<K, V[]> {
  /** The element serializer. */
  readonly elementSerializer: TypeSerializer<V>;

  /**
   * Creates a InMemoryListState.
   *
   * @param keySerializer The key type.
   * @param elementSerializer The element type.
   */
  constructor(keySerializer: TypeSerializer<K>, elementSerializer: TypeSerializer<V>) {
    super(keySerializer);
    this.elementSerializer = elementSerializer;
  }

  /** Serializes one key's content for the wire. */
  protected encode(value: V[]): Uint8Array {
    return encodeListContent(this.elementSerializer, value);
  }

  /**
   * Replaces a key's list.
   *
   * @param key The key.
   * @param values The elements.
   * @returns This state.
   */
  set(key: K, values: readonly V[]): this {
    this.store(key, [...values]);
    return this;
  }

  /**
   * Appends an element to a key's list.
   *
   * @param key The key.
   * @param value The element.
   * @returns This state.
   */
  add(key: K, value: V): this {
    const current = this.entries.get(this.id(key))?.value ?? [];
    this.store(key, [...current, value]);
    return this;
  }

  /**
   * A key's list.
   *
   * @param key The key.
   * @returns A copy of the elements, or `undefined`.
   */
  get(key: K): V[] | undefined {
    const v = this.entries.get(this.id(key))?.value;
    return v === undefined ? undefined : [...v];
  }
}

/**
 * A map state (`MapState<UK, UV>` keyed by `K`). Values may be `null`, as in
 * Flink.
 *
 * @example
 * ```ts
 * import { InMemoryMapState, TYPE_SERIALIZERS } from "@kvstate/queryable-state";
 *
 * const prefs = new InMemoryMapState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.int);
 * prefs.put("alice", "volume", 7).put("alice", "mute", null);
 * prefs.get("alice"); // => [["volume", 7], ["mute", null]]
 * ```
 */
export class InMemoryMapState<K, UK, UV> extends InMemoryState<K, Array<[UK, UV | null]>> {
  /** The map key serializer. */
  readonly mapKeySerializer: TypeSerializer<UK>;
  /** The map value serializer. */
  readonly mapValueSerializer: TypeSerializer<UV>;

  /**
   * Creates a InMemoryMapState.
   *
   * @param keySerializer The state key type.
   * @param mapKeySerializer The map key type.
   * @param mapValueSerializer The map value type.
   */
  constructor(
    keySerializer: TypeSerializer<K>,
    mapKeySerializer: TypeSerializer<UK>,
    mapValueSerializer: TypeSerializer<UV>,
  ) {
    super(keySerializer);
    this.mapKeySerializer = mapKeySerializer;
    this.mapValueSerializer = mapValueSerializer;
  }

  /** Serializes one key's content for the wire. */
  protected encode(value: Array<[UK, UV | null]>): Uint8Array {
    return encodeMapContent(this.mapKeySerializer, this.mapValueSerializer, value);
  }

  /**
   * Replaces a key's map.
   *
   * @param key The state key.
   * @param entries The map entries; later duplicates of a map key win.
   * @returns This state.
   */
  set(key: K, entries: Iterable<readonly [UK, UV | null]>): this {
    const byId = new Map<string, [UK, UV | null]>();
    for (const [uk, uv] of entries) {
      byId.set(toHex(serializeValue(this.mapKeySerializer, uk)), [uk, uv]);
    }
    this.store(key, [...byId.values()]);
    return this;
  }

  /**
   * Sets one entry of a key's map.
   *
   * @param key The state key.
   * @param mapKey The map key.
   * @param mapValue The value, or `null`.
   * @returns This state.
   */
  put(key: K, mapKey: UK, mapValue: UV | null): this {
    const current = this.entries.get(this.id(key))?.value ?? [];
    return this.set(key, [...current, [mapKey, mapValue]]);
  }

  /**
   * A key's map entries.
   *
   * @param key The state key.
   * @returns A copy of the entries, or `undefined`.
   */
  get(key: K): Array<[UK, UV | null]> | undefined {
    return this.entries.get(this.id(key))?.value.map(([k, v]) => [k, v]);
  }
}
