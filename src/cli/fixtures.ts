/**
 * Fixture data for a state server: the JSON schema `server --data FILE`
 * reads (pure: no I/O), and the states it builds.
 *
 * ```json
 * { "jobId": "0102030405060708a1a2a3a4a5a6a7a8",
 *   "states": [ { "name": "word-counts", "kvStateId": "2122232425262728313233343536373a",
 *                 "keyType": "string", "valueType": "long", "stateKind": "value", "numKeyGroups": 128,
 *                 "entries": [ ["hello", 42], ["world", "9007199254740993"] ] },
 *               { "name": "orders", "keyType": "tuple<string,long>",
 *                 "valueType": "pojo<amount:double,orderId:long,tags:list<string>>",
 *                 "entries": [ [["acme", 1001], {"amount": 99.5, "orderId": "1001", "tags": ["new"]}] ] } ] }
 * ```
 *
 * `keyType`, `valueType` and `mapKeyType` are in the type syntax (see
 * `parseType`). Values of string, int, long, double, boolean and bytes keep
 * their classic forms (a long as a number or a decimal string, bytes as
 * hex); values of every other type are in the HTTP gateway's JSON form
 * (`src/types/json_form.ts`: a tuple as an array, a POJO as an object with
 * every field, a long inside as a decimal string or a safe-integer number,
 * bytes inside as base64). Keys are held by their bytes: a POJO key needs
 * no hash code here.
 *
 * @module
 */

import {
  InMemoryListState,
  InMemoryMapState,
  InMemoryValueState,
  JobId,
  JobVertexId,
  KvStateId,
  KvStateLocation,
  type KvStateRegistry,
  type NetAddress,
  type QueryableState,
} from "../../mod.ts";
import type { TypeDescriptor } from "../types/type_descriptor.ts";
import { cliTypeOf, typedValue } from "./typed_values.ts";

/** One state of a fixture file, validated. */
export interface FixtureState {
  /** The queryable state name. */
  readonly name: string;
  /** Its id on the server. */
  readonly kvStateId: KvStateId;
  /** The number of key groups. */
  readonly numKeyGroups: number;
  /** The key type's text (in the type syntax, as the descriptor prints it). */
  readonly keyType: string;
  /** The value (element) type's text. */
  readonly valueType: string;
  /** The map key type's text, for map state. */
  readonly mapKeyType?: string;
  /** The kind of state. */
  readonly stateKind: "value" | "list" | "map";
  /** The state, filled. */
  readonly state: QueryableState;
}

/** A fixture file, validated. */
export interface Fixtures {
  /** The job. */
  readonly jobId: JobId;
  /** The states. */
  readonly states: FixtureState[];
}

/**
 * Validates a fixture document and builds its states.
 *
 * @param doc The parsed JSON.
 * @returns The fixtures.
 * @throws {Error} Naming the bad field, e.g. `states[0].entries[1][0]`.
 */
export function parseFixtures(doc: unknown): Fixtures {
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObj(doc)) throw new Error("(root): expected an object");
  let jobId: JobId;
  try {
    jobId = JobId.fromHex(doc.jobId as string);
  } catch {
    throw new Error(`jobId: expected 32 hex characters, got ${JSON.stringify(doc.jobId)}`);
  }
  if (!Array.isArray(doc.states)) throw new Error("states: expected an array");
  const names = new Set<string>();
  const states = doc.states.map((s: unknown, i: number): FixtureState => {
    const f = `states[${i}]`;
    if (!isObj(s)) throw new Error(`${f}: expected an object`);
    if (typeof s.name !== "string" || s.name === "") {
      throw new Error(`${f}.name: expected a non-empty string`);
    }
    if (names.has(s.name)) throw new Error(`${f}.name: duplicate state ${JSON.stringify(s.name)}`);
    names.add(s.name);
    let kvStateId: KvStateId;
    try {
      kvStateId = s.kvStateId === undefined
        ? KvStateId.random()
        : KvStateId.fromHex(s.kvStateId as string);
    } catch {
      throw new Error(
        `${f}.kvStateId: expected 32 hex characters, got ${JSON.stringify(s.kvStateId)}`,
      );
    }
    const numKeyGroups = s.numKeyGroups ?? 128;
    if (
      typeof numKeyGroups !== "number" || !Number.isInteger(numKeyGroups) || numKeyGroups < 1 ||
      numKeyGroups > 32768
    ) {
      throw new Error(`${f}.numKeyGroups: expected an integer in 1..32768`);
    }
    const stateKind = s.stateKind ?? "value";
    if (stateKind !== "value" && stateKind !== "list" && stateKind !== "map") {
      throw new Error(
        `${f}.stateKind: expected value, list or map, got ${JSON.stringify(stateKind)}`,
      );
    }
    const keyType: TypeDescriptor<unknown> = cliTypeOf(s.keyType, `${f}.keyType`);
    const valueType: TypeDescriptor<unknown> = cliTypeOf(s.valueType, `${f}.valueType`);
    const mapKeyType = stateKind === "map" ? cliTypeOf(s.mapKeyType, `${f}.mapKeyType`) : undefined;
    if (!Array.isArray(s.entries)) throw new Error(`${f}.entries: expected an array`);
    let state: QueryableState;
    if (stateKind === "value") {
      const v = new InMemoryValueState(keyType, valueType);
      s.entries.forEach((e: unknown, j: number) => {
        const ef = `${f}.entries[${j}]`;
        if (!Array.isArray(e) || e.length !== 2) throw new Error(`${ef}: expected [key, value]`);
        v.set(typedValue(keyType, e[0], `${ef}[0]`), typedValue(valueType, e[1], `${ef}[1]`));
      });
      state = v;
    } else if (stateKind === "list") {
      const l = new InMemoryListState(keyType, valueType);
      s.entries.forEach((e: unknown, j: number) => {
        const ef = `${f}.entries[${j}]`;
        if (!Array.isArray(e) || e.length !== 2 || !Array.isArray(e[1])) {
          throw new Error(`${ef}: expected [key, [element, ...]]`);
        }
        l.set(
          typedValue(keyType, e[0], `${ef}[0]`),
          e[1].map((x: unknown, k: number) => typedValue(valueType, x, `${ef}[1][${k}]`)),
        );
      });
      state = l;
    } else {
      const m = new InMemoryMapState(keyType, mapKeyType!, valueType);
      s.entries.forEach((e: unknown, j: number) => {
        const ef = `${f}.entries[${j}]`;
        if (!Array.isArray(e) || e.length !== 2 || !Array.isArray(e[1])) {
          throw new Error(`${ef}: expected [key, [[mapKey, mapValue], ...]]`);
        }
        m.set(
          typedValue(keyType, e[0], `${ef}[0]`),
          e[1].map((p: unknown, k: number): [unknown, unknown] => {
            if (!Array.isArray(p) || p.length !== 2) {
              throw new Error(`${ef}[1][${k}]: expected [mapKey, mapValue]`);
            }
            return [
              typedValue(mapKeyType!, p[0], `${ef}[1][${k}][0]`),
              p[1] === null ? null : typedValue(valueType, p[1], `${ef}[1][${k}][1]`),
            ];
          }),
        );
      });
      state = m;
    }
    return {
      name: s.name,
      kvStateId,
      numKeyGroups,
      keyType: keyType.text,
      valueType: valueType.text,
      mapKeyType: mapKeyType?.text,
      stateKind,
      state,
    };
  });
  return { jobId, states };
}

/**
 * The locations of fixture states served by one server: every key group of
 * each state at `address`.
 *
 * @param fixtures The fixtures.
 * @param address The state server.
 * @returns One location per state.
 */
export function fixtureLocations(fixtures: Fixtures, address: NetAddress): KvStateLocation[] {
  return fixtures.states.map((s) => {
    const loc = new KvStateLocation(fixtures.jobId, JobVertexId.random(), s.numKeyGroups, s.name);
    loc.registerKvState(0, s.numKeyGroups - 1, s.kvStateId, address);
    return loc;
  });
}

/**
 * Registers fixture states with a state server's registry, each with its id,
 * its job and its name (so an access filter on the server sees them).
 *
 * @param registry The server's registry.
 * @param fixtures The fixtures.
 */
export function registerFixtures(registry: KvStateRegistry, fixtures: Fixtures): void {
  for (const s of fixtures.states) {
    registry.register(s.state, {
      kvStateId: s.kvStateId,
      jobId: fixtures.jobId,
      stateName: s.name,
    });
  }
}

/** The demo data the proxy serves when it has no configuration. */
export const DEMO_FIXTURES: unknown = {
  jobId: "0102030405060708a1a2a3a4a5a6a7a8",
  states: [
    {
      name: "word-counts",
      kvStateId: "2122232425262728313233343536373a",
      keyType: "string",
      valueType: "long",
      numKeyGroups: 128,
      entries: [["hello", 42], ["world", "9007199254740993"], ["flink", 7]],
    },
    {
      name: "recent-events",
      keyType: "int",
      valueType: "string",
      stateKind: "list",
      numKeyGroups: 128,
      entries: [[1, ["login", "view", "logout"]], [2, ["login"]]],
    },
    {
      name: "user-prefs",
      keyType: "long",
      mapKeyType: "string",
      valueType: "double",
      stateKind: "map",
      numKeyGroups: 128,
      entries: [[7, [["volume", 0.8], ["speed", 1.25], ["theme", null]]]],
    },
    {
      name: "orders",
      kvStateId: "4142434445464748515253545556575a",
      keyType: "tuple<string,long>",
      valueType:
        "pojo<amount:double,customer:pojo<age:int,name:string>,orderId:long,tags:list<string>>",
      numKeyGroups: 128,
      entries: [
        [["acme", 1001], {
          amount: 99.5,
          customer: { age: 42, name: "Ada" },
          orderId: "1001",
          tags: ["new", "priority"],
        }],
        [["acme", 1002], {
          amount: 12.25,
          customer: { age: 36, name: "Grace" },
          orderId: "1002",
          tags: [],
        }],
        [["globex", 7], { amount: 1500, customer: null, orderId: "7", tags: ["bulk"] }],
      ],
    },
  ],
};
