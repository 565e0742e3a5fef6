/**
 * One state query of the gateway: read from the value route's query
 * parameters or from an item of a batch body, validated, and run through a
 * {@linkcode QueryableStateClient} to a JSON value.
 *
 * @module
 */

import type { StateKind } from "../client/queryable_state_client.ts";
import type { TypeDescriptor } from "../types/type_descriptor.ts";
import { TypeValueError } from "../types/type_errors.ts";
import { BadParameterError } from "./gateway_errors.ts";
import { withKeyHash } from "./key_hash.ts";
import {
  type JsonValue,
  parseKeyJson,
  parseKeyParam,
  parseTypeParam,
  stateToJson,
} from "./json_values.ts";

/**
 * A validated state query.
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import type { StateQuerySpec } from "@kvstate/queryable-state/http";
 *
 * const q: StateQuerySpec = {
 *   jobId: "0102030405060708a1a2a3a4a5a6a7a8", stateName: "word-counts", key: "hello",
 *   keyType: types.string, valueType: types.long, stateKind: "value",
 * };
 * q.stateKind; // => "value"
 * ```
 */
export interface StateQuerySpec {
  /** The job id, 32 hex characters. */
  readonly jobId: string;
  /** The queryable state's name. */
  readonly stateName: string;
  /** The key, as the client takes it (`bigint` for `long`, ...). */
  readonly key: unknown;
  /** The key type. */
  readonly keyType: TypeDescriptor<unknown>;
  /** The value type (list: the element type; map: the map value type). */
  readonly valueType: TypeDescriptor<unknown>;
  /** The state kind (`"value"` when not given). */
  readonly stateKind: StateKind;
  /** The map key type (map state only). */
  readonly mapKeyType?: TypeDescriptor<unknown>;
  /**
   * The key's Java `hashCode()`, as given (`keyHash`): required for a POJO
   * key (its `hashCode()` is user code); when given for another key, it is
   * used instead of the computed one.
   */
  readonly keyHash?: number;
}

/**
 * What the gateway needs of its client: `getKvState` as
 * `QueryableStateClient` has it (so a `QueryableStateClient` is one; a test
 * double may be another). It is called with the job id as hex, the state
 * name, the key, and `{keyType, valueType, stateKind, mapKeyType?, signal,
 * timeoutMs}`, and resolves the decoded state.
 *
 * @example
 * ```ts
 * import { MemoryTransport, QueryableStateClient } from "@kvstate/queryable-state";
 * import type { StateQueryClient } from "@kvstate/queryable-state/http";
 *
 * await using client = new QueryableStateClient({
 *   transport: new MemoryTransport(), proxy: "127.0.0.1:9069",
 * });
 * const c: StateQueryClient = client;
 * typeof c.getKvState; // => "function"
 * ```
 */
export interface StateQueryClient {
  /**
   * Queries one key (see `QueryableStateClient.getKvState`).
   *
   * @param jobId The job id, 32 hex characters.
   * @param stateName The queryable state's name.
   * @param key The key.
   * @param query The types, the state kind, the signal and the deadline.
   * @returns The decoded state.
   */
  getKvState(jobId: string, stateName: string, key: never, query: never): Promise<unknown>;
}

/** What a query's run may be given: the request's abort signal and the time left. */
export interface StateQueryRunOptions {
  /** Abandons the query (e.g. the HTTP request's own signal). */
  readonly signal?: AbortSignal;
  /** The time left, in ms. */
  readonly timeoutMs?: number;
}

const JOB_ID = /^[0-9a-fA-F]{32}$/;
const STATE_KINDS: readonly StateKind[] = ["value", "list", "map"];

/** The fields of a query before validation. */
type Fields = {
  readonly jobId: unknown;
  readonly stateName: unknown;
  readonly keyType: unknown;
  readonly valueType: unknown;
  readonly stateKind: unknown;
  readonly mapKeyType: unknown;
  readonly keyHash: unknown;
};

/**
 * Reads a query from the value route: the job and state from the path, the
 * rest from the query parameters `key`, `keyType`, `valueType` (types in
 * the type syntax: `long`, `tuple<string,long>`, `pojo<id:long,name:string>`),
 * `stateKind` (optional, `value`), `mapKeyType` (map state only) and
 * `keyHash` (the key's Java `hashCode()`, an int32: required for a POJO
 * key). A key of a structured type (tuple, pojo, row, …) is given as JSON.
 *
 * @example
 * ```ts
 * import { queryFromParams } from "@kvstate/queryable-state/http";
 *
 * const q = queryFromParams(
 *   "0102030405060708a1a2a3a4a5a6a7a8", "counts",
 *   new URLSearchParams("key=7&keyType=long&valueType=long"),
 * );
 * q.key; // => 7n
 * const t = queryFromParams(
 *   "0102030405060708a1a2a3a4a5a6a7a8", "orders",
 *   new URLSearchParams({ key: '["acme",1001]', keyType: "tuple<string,long>", valueType: "double" }),
 * );
 * t.key; // => ["acme", 1001n]
 * ```
 *
 * @param jobId The job id from the path.
 * @param stateName The state name from the path.
 * @param params The URL's query parameters.
 * @returns The query.
 * @throws {BadParameterError} Naming the first bad or missing parameter.
 */
export function queryFromParams(
  jobId: string,
  stateName: string,
  params: URLSearchParams,
): StateQuerySpec {
  const spec = common({
    jobId,
    stateName,
    keyType: params.get("keyType") ?? undefined,
    valueType: params.get("valueType") ?? undefined,
    stateKind: params.get("stateKind") ?? undefined,
    mapKeyType: params.get("mapKeyType") ?? undefined,
    keyHash: params.get("keyHash") ?? undefined,
  }, "");
  const key = params.get("key");
  if (key === null) throw new BadParameterError("key", "missing");
  return withKey(spec, parseKeyParam(spec.keyType, key, "key"), "");
}

/**
 * Reads a query from an item of a batch body: an object with `jobId`,
 * `stateName`, `key` (its JSON form), `keyType`, `valueType`, and
 * optionally `stateKind`, `mapKeyType` and `keyHash` (a number; required
 * for a POJO key). Errors name the parameter under `prefix`.
 *
 * @example
 * ```ts
 * import { queryFromJson } from "@kvstate/queryable-state/http";
 *
 * const q = queryFromJson({
 *   jobId: "0102030405060708a1a2a3a4a5a6a7a8", stateName: "counts",
 *   key: "9007199254740993", keyType: "long", valueType: "long",
 * }, "queries[0].");
 * q.key; // => 9007199254740993n
 * ```
 *
 * @param item The JSON item.
 * @param prefix Put before each parameter's name in errors (e.g. `"queries[3]."`).
 * @returns The query.
 * @throws {BadParameterError} Naming the first bad or missing parameter.
 */
export function queryFromJson(item: unknown, prefix: string): StateQuerySpec {
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    throw new BadParameterError(prefix.replace(/\.$/, "") || "query", "expected an object");
  }
  const o = item as Record<string, unknown>;
  const spec = common(o as Fields, prefix);
  return withKey(spec, parseKeyJson(spec.keyType, o.key, prefix + "key"), prefix);
}

/**
 * Runs a query through the client and gives the state's JSON (see
 * {@linkcode stateToJson}).
 *
 * @example
 * ```ts ignore
 * const json = await runStateQuery(client, spec, { signal: request.signal, timeoutMs: 5000 });
 * ```
 *
 * @param client The client.
 * @param spec The query.
 * @param options The abort signal and the time left.
 * @returns The state's JSON.
 */
export async function runStateQuery(
  client: StateQueryClient,
  spec: StateQuerySpec,
  options: StateQueryRunOptions,
): Promise<JsonValue> {
  const query = {
    keyType: spec.keyHash === undefined ? spec.keyType : withKeyHash(spec.keyType, spec.keyHash),
    valueType: spec.valueType,
    stateKind: spec.stateKind,
    mapKeyType: spec.mapKeyType,
    signal: options.signal,
    timeoutMs: options.timeoutMs,
  };
  const value = await (client.getKvState as unknown as LooseGet).call(
    client,
    spec.jobId,
    spec.stateName,
    spec.key,
    query,
  );
  return stateToJson(spec.stateKind, spec.valueType, value, spec.mapKeyType);
}

/** `getKvState` without its overloads. */
type LooseGet = (
  jobId: string,
  stateName: string,
  key: unknown,
  query: Record<string, unknown>,
) => Promise<unknown>;

/** The spec with its key; a key whose hash cannot be computed needs `keyHash`. */
function withKey(spec: Omit<StateQuerySpec, "key">, key: unknown, prefix: string): StateQuerySpec {
  if (spec.keyHash === undefined && spec.keyType.kind !== spec.keyType.text) {
    // A composite key: its hash may need user code (a POJO, or one inside a tuple).
    try {
      spec.keyType.hashCode(key);
    } catch (e) {
      if (!(e instanceof TypeValueError)) throw e;
      throw new BadParameterError(
        prefix + "keyHash",
        `missing: the key's Java hashCode() cannot be computed here (${e.message}); ` +
          "pass it as keyHash (an int32)",
      );
    }
  }
  return { ...spec, key };
}

function keyHashOf(value: unknown, parameter: string): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "string" && /^-?[0-9]{1,11}$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) {
    throw new BadParameterError(parameter, "expected an int32 (the key's Java hashCode())");
  }
  return n;
}

function common(f: Fields, prefix: string): Omit<StateQuerySpec, "key"> {
  if (typeof f.jobId !== "string" || !JOB_ID.test(f.jobId)) {
    throw new BadParameterError(prefix + "jobId", "expected 32 hex characters");
  }
  if (typeof f.stateName !== "string" || f.stateName === "") {
    throw new BadParameterError(prefix + "stateName", "expected a non-empty string");
  }
  const keyType = parseTypeParam(f.keyType, prefix + "keyType");
  const valueType = parseTypeParam(f.valueType, prefix + "valueType");
  const keyHash = keyHashOf(f.keyHash, prefix + "keyHash");
  if (keyHash === undefined && keyType.kind === "pojo") {
    throw new BadParameterError(
      prefix + "keyHash",
      "missing: a POJO key's Java hashCode() is user code; pass it as keyHash (an int32)",
    );
  }
  const stateKind = f.stateKind ?? "value";
  if (!STATE_KINDS.includes(stateKind as StateKind)) {
    throw new BadParameterError(prefix + "stateKind", "expected value, list or map");
  }
  if (stateKind === "map") {
    const mapKeyType = parseTypeParam(f.mapKeyType, prefix + "mapKeyType");
    return {
      jobId: f.jobId,
      stateName: f.stateName,
      keyType,
      valueType,
      stateKind,
      mapKeyType,
      keyHash,
    };
  }
  if (f.mapKeyType !== undefined) {
    throw new BadParameterError(prefix + "mapKeyType", "only for stateKind map");
  }
  return {
    jobId: f.jobId,
    stateName: f.stateName,
    keyType,
    valueType,
    stateKind: stateKind as StateKind,
    keyHash,
  };
}
