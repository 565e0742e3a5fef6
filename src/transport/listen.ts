/**
 * Binding a server to the first free port of a configured range, the way
 * Flink's `AbstractServerBase.start()` does, and Flink's port spec grammar
 * (`queryable-state.proxy.ports`, `queryable-state.server.ports`).
 *
 * Web-standard only: the sockets come from whichever {@linkcode Transport}
 * is passed in.
 *
 * @module
 */

import { BindError } from "../wire/errors.ts";
import type { Listener, Transport } from "./types.ts";

const PORT_ITEM = /^(\d+)$/;
const RANGE_ITEM = /^(\d+)\s*-\s*(\d+)$/;

function checkPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(
      `Invalid port configuration. Port must be between 0 and 65535, but was ${what}.`,
    );
  }
  return port;
}

/**
 * Parses a Flink port spec: comma-separated items, each trimmed, each either
 * a single port or an inclusive range `start-end` with `start < end`; every
 * port in 0..65535 (0 asks for any free port). The ports come back in
 * configuration order, each once (a port repeated by a later item keeps its
 * first place).
 *
 * Flink tries the ports in hash order; this module uses configuration order,
 * which is not visible on the wire.
 *
 * @example
 * ```ts
 * import { parsePortSpec } from "@kvstate/queryable-state";
 *
 * parsePortSpec("9069"); // => [9069]
 * parsePortSpec(" 50100-50102, 51234 "); // => [50100, 50101, 50102, 51234]
 * parsePortSpec(0); // => [0]
 * ```
 *
 * @param spec The spec string, or a single port number.
 * @returns The ports, in configuration order, without duplicates.
 * @throws {TypeError} When the spec is empty, malformed, a range is not
 * ascending, or a port is outside 0..65535.
 */
export function parsePortSpec(spec: string | number): number[] {
  if (typeof spec === "number") return [checkPort(spec, String(spec))];
  if (typeof spec !== "string") {
    throw new TypeError(`Invalid port configuration: expected a string or a number`);
  }
  const seen = new Set<number>();
  const ports: number[] = [];
  const add = (p: number): void => {
    if (!seen.has(p)) {
      seen.add(p);
      ports.push(p);
    }
  };
  for (const raw of spec.split(",")) {
    const item = raw.trim();
    const single = PORT_ITEM.exec(item);
    if (single !== null) {
      add(checkPort(Number(single[1]), single[1]));
      continue;
    }
    const range = RANGE_ITEM.exec(item);
    if (range === null) {
      throw new TypeError(
        `Invalid port configuration ${JSON.stringify(spec)}: ${
          item === "" ? "empty item" : `cannot parse ${JSON.stringify(item)}`
        } (expected a port or a range start-end, comma-separated)`,
      );
    }
    const start = checkPort(Number(range[1]), range[1]);
    const end = checkPort(Number(range[2]), range[2]);
    if (start >= end) {
      throw new TypeError(
        `Invalid port configuration ${JSON.stringify(spec)}: range ${
          JSON.stringify(item)
        } must have start < end`,
      );
    }
    for (let p = start; p <= end; p++) add(p);
  }
  return ports;
}

/**
 * Binds the first free port among `ports`, trying them in configuration
 * order. A port that is in use ({@linkcode BindError} with `addressInUse`)
 * moves on to the next one; any other failure is rethrown at once. When
 * every port is taken it throws Flink's error:
 * `Unable to start <serverName>. All ports in provided range are occupied.`
 *
 * @example Two servers on one port range: the second gets the next port
 * ```ts
 * import { listenOnPorts, MemoryTransport } from "@kvstate/queryable-state";
 *
 * const transport = new MemoryTransport();
 * const a = await listenOnPorts(transport, "127.0.0.1", "9069-9070", "Queryable State Server");
 * const b = await listenOnPorts(transport, "127.0.0.1", "9069-9070", "Queryable State Server");
 * [a.address.port, b.address.port]; // => [9069, 9070]
 * try {
 *   await listenOnPorts(transport, "127.0.0.1", "9069-9070", "Queryable State Server");
 * } catch (e) {
 *   (e as Error).message;
 *   // => "Unable to start Queryable State Server. All ports in provided range are occupied."
 * }
 * await a.close();
 * await b.close();
 * ```
 *
 * @param transport The transport to bind with.
 * @param hostname The address to bind.
 * @param ports A port spec (see {@linkcode parsePortSpec}), one port, or a list of ports.
 * @param serverName The server's name for the error message, e.g. `Queryable State Server`.
 * @returns The listener bound to the first free port.
 * @throws {TypeError} When the ports are malformed or the list is empty.
 * @throws {BindError} With `addressInUse` set when all ports are occupied;
 * any other bind error as the transport raised it.
 */
export async function listenOnPorts(
  transport: Transport,
  hostname: string,
  ports: string | number | readonly number[],
  serverName: string,
): Promise<Listener> {
  let list: readonly number[];
  if (typeof ports === "string" || typeof ports === "number") {
    list = parsePortSpec(ports);
  } else {
    for (const p of ports) checkPort(p, String(p));
    list = ports;
  }
  if (list.length === 0) throw new TypeError("Invalid port configuration: no port given");
  let last: unknown;
  for (const port of list) {
    try {
      return await transport.listen({ hostname, port });
    } catch (e) {
      if (e instanceof BindError && e.addressInUse) {
        last = e;
        continue;
      }
      throw e;
    }
  }
  throw new BindError(
    `Unable to start ${serverName}. All ports in provided range are occupied.`,
    true,
    { cause: last },
  );
}
