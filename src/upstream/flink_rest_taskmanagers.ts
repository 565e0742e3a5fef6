/**
 * Reading Flink's `GET /taskmanagers` answer (`TaskManagersInfo`, as Flink
 * 1.19's REST API documents it) down to what discovery needs: each
 * TaskManager's id and the host of its RPC address.
 *
 * The host comes from `path`, the only field of `TaskManagerInfo` that
 * carries an address: Flink's ResourceManager fills it with the
 * TaskManager's RPC gateway address, `<scheme>://flink@<host>:<port>/user/rpc/<name>`
 * (`akka.tcp` up to 1.17, `pekko.tcp` from 1.18, `.ssl.tcp` with TLS,
 * `[v6]` for IPv6 hosts). That host is the TaskManager's external address,
 * the same one its Queryable State proxy binds to. `id` is a resource id
 * (`host:port-xxxxxx` in standalone clusters, but a pod or container name
 * on Kubernetes and YARN) and the other fields are ports, slots and memory:
 * none of them is a host. A TaskManager in the JobManager's process (a
 * MiniCluster) has a local address without a host,
 * `pekko://flink/user/rpc/taskmanager_0`.
 *
 * @module
 */

import { FlinkRestShapeError } from "./flink_rest_errors.ts";

/** What an RPC address (the `path` of a `TaskManagerInfo`) says of where it is. */
export interface FlinkRpcAddress {
  /**
   * Whether it is the address of a local actor system (no host: the
   * TaskManager runs in the JobManager's process).
   */
  readonly local: boolean;
  /** The host, without brackets for IPv6; absent when `local`. */
  readonly host?: string;
  /** The RPC port; absent when `local`. */
  readonly port?: number;
}

/** One TaskManager of a `GET /taskmanagers` answer, as discovery reads it. */
export interface FlinkTaskManager {
  /** Its resource id (`id`). */
  readonly id: string;
  /** Its RPC address (`path`), as listed. */
  readonly path: string;
  /** What the address says (`undefined` when it cannot be read). */
  readonly address: FlinkRpcAddress | undefined;
}

const REMOTE =
  /^[A-Za-z][A-Za-z0-9.+-]*:\/\/[^@/\s]+@(\[[0-9A-Fa-f:.%A-Za-z]+\]|[A-Za-z0-9._-]+):(\d{1,5})(?:\/|$)/;
const LOCAL = /^[A-Za-z][A-Za-z0-9.+-]*:\/\/[^@/:\s]+(?:\/|$)/;
/** The longest host name accepted (DNS allows 253). */
const MAX_HOST = 253;

/**
 * Reads an RPC address as Flink writes it:
 * `pekko.tcp://flink@10.0.0.5:6122/user/rpc/taskmanager_0` (host and port),
 * `pekko://flink/user/rpc/taskmanager_0` (local).
 *
 * @example
 * ```ts
 * import { parseRpcAddress } from "./flink_rest_taskmanagers.ts";
 *
 * parseRpcAddress("pekko.tcp://flink@10.0.0.5:6122/user/rpc/taskmanager_0")?.host; // => "10.0.0.5"
 * parseRpcAddress("akka.ssl.tcp://flink@[fd00::5]:6122/user/rpc/taskmanager_0")?.host; // => "fd00::5"
 * parseRpcAddress("pekko://flink/user/rpc/taskmanager_0")?.local; // => true
 * parseRpcAddress("not an address"); // => undefined
 * ```
 *
 * @param path The address.
 * @returns What it says, or `undefined` when it is not an RPC address.
 */
export function parseRpcAddress(path: string): FlinkRpcAddress | undefined {
  if (typeof path !== "string" || path.length > 2048) return undefined;
  const m = REMOTE.exec(path);
  if (m !== null) {
    let host = m[1];
    if (host.startsWith("[")) host = host.slice(1, -1);
    const port = Number(m[2]);
    if (host === "" || host.length > MAX_HOST || port < 1 || port > 65535) return undefined;
    return { local: false, host, port };
  }
  if (LOCAL.test(path)) return { local: true };
  return undefined;
}

/**
 * Checks the shape of a `GET /taskmanagers` answer and reads each
 * TaskManager's id and address. Only `taskmanagers`, `id` and `path` are
 * required (the other fields of Flink 1.19's `TaskManagerInfo`, `dataPort`,
 * `jmxPort`, `timeSinceLastHeartbeat`, `slotsNumber`, `freeSlots`,
 * `totalResource`, `freeResource`, `hardware`, `memoryConfiguration` and
 * `blocked`, are ignored, so older and newer versions are read too).
 *
 * @example
 * ```ts
 * import { parseTaskManagersInfo } from "./flink_rest_taskmanagers.ts";
 *
 * const tms = parseTaskManagersInfo({ taskmanagers: [{
 *   id: "10.0.0.5:6122-4e7a1c", path: "pekko.tcp://flink@10.0.0.5:6122/user/rpc/taskmanager_0",
 *   dataPort: 40213, jmxPort: -1, slotsNumber: 4, freeSlots: 2,
 * }] }, "http://jm:8081/taskmanagers");
 * tms[0].address?.host; // => "10.0.0.5"
 * ```
 *
 * @param body The parsed JSON.
 * @param url The URL it came from (for the error).
 * @returns The TaskManagers, in the order listed.
 * @throws {FlinkRestShapeError} When the body is not of that shape.
 */
export function parseTaskManagersInfo(body: unknown, url: string): FlinkTaskManager[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new FlinkRestShapeError(url, "the body is not a JSON object");
  }
  const list = (body as { taskmanagers?: unknown }).taskmanagers;
  if (!Array.isArray(list)) throw new FlinkRestShapeError(url, "taskmanagers is not an array");
  const out: FlinkTaskManager[] = [];
  for (let i = 0; i < list.length; i++) {
    const tm = list[i] as { id?: unknown; path?: unknown } | null;
    if (typeof tm !== "object" || tm === null || Array.isArray(tm)) {
      throw new FlinkRestShapeError(url, `taskmanagers[${i}] is not an object`);
    }
    if (typeof tm.id !== "string") {
      throw new FlinkRestShapeError(url, `taskmanagers[${i}].id is not a string`);
    }
    if (typeof tm.path !== "string") {
      throw new FlinkRestShapeError(url, `taskmanagers[${i}].path is not a string`);
    }
    out.push({ id: tm.id, path: tm.path, address: parseRpcAddress(tm.path) });
  }
  return out;
}
