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
import { ByteKeyMap } from "../wire/byte_key_map.ts";
import { deserializeKeyAndNamespace, KEY_NAMESPACE_MAGIC } from "../wire/key_and_namespace.ts";
import { encodeListContent, encodeMapContent, encodeValueContent } from "../wire/state_content.ts";
import { serializeValue, type TypeSerializer } from "../wire/type_serializers.ts";
import type { QueryableState } from "./kv_state_server.ts";

/**
 * One key's entry in an {@linkcode InMemoryState}: the key, its value and its
 * encoded content.
 *
 * @example
 * ```ts
 * import type { InMemoryEntry } from "@kvstate/queryable-state";
 *
 * const e: InMemoryEntry<string, number> = { key: "a", value: 7, content: new Uint8Array([0, 0, 0, 7]), verified: false };
 * e.content.length; // => 4
 * ```
 */
export interface InMemoryEntry<K, E> {
  /** The key, as last set. */
  key: K;
  /** The value. */
  value: E;
  /** The value's encoded content, as a state server answers it. */
  content: Uint8Array;
  /**
   * Whether the key's bytes followed by `2a 00` have been seen to
   * deserialize with the key serializer, so that a request with exactly
   * those bytes can be answered without deserializing them again.
   */
  verified: boolean;
}

/**
 * The common part of the in-memory states: a map from serialized key to the
 * key's value and its encoded content, answering state server lookups.
 *
 * A lookup does not decode the key: the request's key bytes (everything
 * before the trailing `2a 00`) are looked up as they are, hashed in place.
 * The key bytes are fully deserialized only on a miss (to tell malformed
 * bytes, which fail with Flink's `IOException`, from an absent key) and the
 * first time a key is hit: the answer is the same as deserializing every
 * time as long as the key serializer's `deserialize` is deterministic.
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
  /** The entries, by serialized key. */
  readonly #entries: ByteKeyMap<InMemoryEntry<K, E>> = new ByteKeyMap();

  /**
   * Creates an empty state.
   *
   * @param keySerializer The key type.
   */
  constructor(keySerializer: TypeSerializer<K>) {
    this.keySerializer = keySerializer;
  }

  /**
   * The identity of a key: its serialized bytes.
   *
   * @param key The key.
   * @returns The identity.
   */
  protected id(key: K): Uint8Array {
    return serializeValue(this.keySerializer, key);
  }

  /**
   * A key's entry.
   *
   * @param key The key.
   * @returns The entry, or `undefined`.
   */
  protected entry(key: K): InMemoryEntry<K, E> | undefined {
    return this.#entries.get(this.id(key));
  }

  /**
   * Serializes one key's content for the wire.
   *
   * @param value The key's value.
   * @returns The content bytes.
   */
  protected abstract encode(value: E): Uint8Array;

  /**
   * Sets a key's value and its encoded content (an existing key keeps its
   * place in {@linkcode InMemoryState.keys}).
   *
   * @param key The key.
   * @param value The value.
   */
  protected store(key: K, value: E): void {
    const id = this.id(key);
    const content = this.encode(value);
    const existing = this.#entries.get(id);
    if (existing === undefined) {
      this.#entries.set(id, { key, value, content, verified: false });
    } else {
      existing.key = key;
      existing.value = value;
      existing.content = content;
    }
  }

  /**
   * Removes a key.
   *
   * @param key The key.
   * @returns Whether it was present.
   */
  delete(key: K): boolean {
    return this.#entries.delete(this.id(key));
  }

  /**
   * Whether a key is present.
   *
   * @param key The key.
   * @returns `true` when present.
   */
  has(key: K): boolean {
    return this.#entries.has(this.id(key));
  }

  /** Removes every key. */
  clear(): void {
    this.#entries.clear();
  }

  /** The number of keys. */
  get size(): number {
    return this.#entries.size;
  }

  /** The keys, in insertion order. */
  keys(): K[] {
    const keys: K[] = [];
    for (const e of this.#entries.values()) keys.push(e.key);
    return keys;
  }

  /**
   * Answers a state server request: returns the key's content, or `null`
   * when absent; bytes that do not deserialize with the key serializer fail
   * with Flink's `IOException` (see {@linkcode deserializeKeyAndNamespace}).
   * A hit on bytes seen before costs one hashed lookup, no decoding.
   *
   * @example
   * ```ts
   * import { InMemoryValueState, TYPE_SERIALIZERS } from "@kvstate/queryable-state";
   * import { serializeKeyAndNamespace } from "@kvstate/queryable-state/wire";
   *
   * const counts = new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.int).set("a", 7);
   * counts.getSerializedValue(serializeKeyAndNamespace("a", TYPE_SERIALIZERS.string)); // => new Uint8Array([0, 0, 0, 7])
   * counts.getSerializedValue(serializeKeyAndNamespace("b", TYPE_SERIALIZERS.string)); // => null
   * ```
   *
   * @param serializedKeyAndNamespace Key, 42, VoidNamespace.
   * @returns The serialized content, or `null`.
   * @throws {ProtocolError} `java.io.IOException` when the bytes do not
   * deserialize.
   */
  getSerializedValue(serializedKeyAndNamespace: Uint8Array): Uint8Array | null {
    const bytes = serializedKeyAndNamespace;
    const keyEnd = bytes.length - 2;
    let found: InMemoryEntry<K, E> | undefined;
    const common = keyEnd >= 0 && bytes[keyEnd] === KEY_NAMESPACE_MAGIC && bytes[keyEnd + 1] === 0;
    if (common) {
      // The common shape, key ‖ 2a 00: look the key bytes up as they are.
      found = this.#entries.get(bytes, 0, keyEnd);
      if (found !== undefined && found.verified) return found.content;
    }
    // A miss, another shape, or a key not yet verified: validate as Flink
    // does (throws on malformed bytes). It parsed, so the key is exactly
    // bytes[0 .. length - 2), already looked up when `common`.
    deserializeKeyAndNamespace(bytes, this.keySerializer);
    if (!common) found = this.#entries.get(bytes, 0, keyEnd);
    if (found === undefined) return null;
    // These exact bytes (key ‖ 2a 00) parse: the lookup by bytes may answer them.
    if (common) found.verified = true;
    return found.content;
  }

  /**
   * The same as {@linkcode InMemoryState.getSerializedValue}: marks this
   * state as synchronous, so that a state server answers it straight from
   * the request's bytes (see `QueryableState.getSerializedValueNow`).
   *
   * @example
   * ```ts
   * import { InMemoryValueState, TYPE_SERIALIZERS } from "@kvstate/queryable-state";
   * import { serializeKeyAndNamespace } from "@kvstate/queryable-state/wire";
   *
   * const counts = new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.int).set("a", 7);
   * counts.getSerializedValueNow(serializeKeyAndNamespace("a", TYPE_SERIALIZERS.string)); // => new Uint8Array([0, 0, 0, 7])
   * ```
   *
   * @param serializedKeyAndNamespace Key, 42, VoidNamespace.
   * @returns The serialized content, or `null`.
   * @throws {ProtocolError} `java.io.IOException` when the bytes do not
   * deserialize.
   */
  getSerializedValueNow(serializedKeyAndNamespace: Uint8Array): Uint8Array | null {
    return this.getSerializedValue(serializedKeyAndNamespace);
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
    return this.entry(key)?.value;
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
    const current = this.entry(key)?.value ?? [];
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
    const v = this.entry(key)?.value;
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
    const current = this.entry(key)?.value ?? [];
    return this.set(key, [...current, [mapKey, mapValue]]);
  }

  /**
   * A key's map entries.
   *
   * @param key The state key.
   * @returns A copy of the entries, or `undefined`.
   */
  get(key: K): Array<[UK, UV | null]> | undefined {
    return this.entry(key)?.value.map(([k, v]) => [k, v]);
  }
}
