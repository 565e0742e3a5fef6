/**
 * Port specifications as Flink's `queryable-state.proxy.ports` takes them:
 * `9069`, `9069-9075`, `9069,9071-9072`.
 *
 * @module
 */

/** The default of {@linkcode PortRangeOptions.maxPorts}: 64 ports. */
export const DEFAULT_MAX_PORTS_PER_RANGE = 64;

/** Options of {@linkcode parsePortRange}. */
export interface PortRangeOptions {
  /**
   * The most ports the specification may name, all items together (each one
   * is probed on every discovered host). Default 64
   * ({@linkcode DEFAULT_MAX_PORTS_PER_RANGE}); a specification naming more
   * throws a {@linkcode PortRangeError} with `tooLarge` set.
   */
  readonly maxPorts?: number;
}

/**
 * A port specification that is not valid: not a number or `start-end`, a
 * port outside 1..65535, a range whose end is before its start, or more
 * ports than `maxPorts` (then `tooLarge` is set).
 *
 * @example
 * ```ts
 * import { parsePortRange, PortRangeError } from "./port_range.ts";
 *
 * try {
 *   parsePortRange("9069-19069");
 * } catch (e) {
 *   e instanceof PortRangeError; // => true
 *   (e as PortRangeError).tooLarge; // => true
 * }
 * ```
 */
export class PortRangeError extends RangeError {
  /** The specification given. */
  readonly spec: string;
  /** Whether the specification was valid but named more than `maxPorts` ports. */
  readonly tooLarge: boolean;

  /**
   * Creates the error.
   *
   * @param spec The specification given.
   * @param reason What is wrong with it.
   * @param tooLarge Whether it named too many ports.
   */
  constructor(spec: string, reason: string, tooLarge = false) {
    super(`Invalid port specification ${JSON.stringify(spec)}: ${reason}`);
    this.spec = spec;
    this.tooLarge = tooLarge;
  }

  /** The class name, as `Error.prototype.name` reports it. */
  override get name(): string {
    return "PortRangeError";
  }
}

function parsePort(spec: string, text: string): number {
  if (!/^\d{1,5}$/.test(text)) {
    throw new PortRangeError(spec, `${JSON.stringify(text)} is not a port number`);
  }
  const port = Number(text);
  if (port < 1 || port > 65535) {
    throw new PortRangeError(spec, `port ${port} is outside 1..65535`);
  }
  return port;
}

/**
 * Parses a port specification in the grammar of Flink's port options
 * (`queryable-state.proxy.ports`): comma-separated items, each trimmed, each
 * a port or an inclusive `start-end` range. The ports come back in the
 * order given, each once. Port 0 (any free port, which Flink accepts for
 * binding) is refused: a proxy on a random port cannot be found.
 *
 * @example
 * ```ts
 * import { parsePortRange } from "./port_range.ts";
 *
 * parsePortRange("9069"); // => [9069]
 * parsePortRange(9069); // => [9069]
 * parsePortRange("9069-9071, 9080"); // => [9069, 9070, 9071, 9080]
 * ```
 *
 * @param spec The specification, or a single port number.
 * @param options The bound on the number of ports.
 * @returns The ports, at least one.
 * @throws {PortRangeError} When the specification is invalid or names more
 * than `maxPorts` ports.
 * @throws {RangeError} When `maxPorts` is not a positive integer.
 */
export function parsePortRange(spec: string | number, options: PortRangeOptions = {}): number[] {
  const maxPorts = options.maxPorts ?? DEFAULT_MAX_PORTS_PER_RANGE;
  if (!Number.isInteger(maxPorts) || maxPorts < 1) {
    throw new RangeError(`maxPorts must be a positive integer, got ${maxPorts}`);
  }
  const text = String(spec);
  if (text.length > 1024) {
    throw new PortRangeError(text.slice(0, 64), "longer than 1024 characters");
  }
  const seen = new Set<number>();
  const ports: number[] = [];
  const add = (port: number): void => {
    if (seen.has(port)) return;
    if (ports.length >= maxPorts) {
      throw new PortRangeError(text, `names more than maxPorts (${maxPorts}) ports`, true);
    }
    seen.add(port);
    ports.push(port);
  };
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") throw new PortRangeError(text, "an item is empty");
    const dash = item.indexOf("-");
    if (dash < 0) {
      add(parsePort(text, item));
      continue;
    }
    const start = parsePort(text, item.slice(0, dash).trim());
    const end = parsePort(text, item.slice(dash + 1).trim());
    if (end < start) throw new PortRangeError(text, `range ${item} ends before it starts`);
    if (end - start + 1 > maxPorts) {
      throw new PortRangeError(text, `names more than maxPorts (${maxPorts}) ports`, true);
    }
    for (let p = start; p <= end; p++) add(p);
  }
  return ports;
}
