/**
 * What a server keeps per connection it serves.
 *
 * @module
 */

import type { Connection } from "../transport/types.ts";
import type { DirectSession } from "./direct_session.ts";
import type { InFlight } from "./in_flight.ts";

/** @internal One connection a server serves (or one `requestStream()` stage). */
export interface ServedConnection {
  readonly conn: Connection;
  /** Stops reading new requests (server shutdown). */
  stopReading: () => void;
  /** Its asynchronous requests on the regular path. */
  readonly inFlight: Set<InFlight>;
  closed: boolean;
  /** The direct path's session, which takes asynchronous answers without a promise. */
  session?: DirectSession;
}

/**
 * @internal A fresh record for a connection.
 *
 * @param conn The connection (`undefined` for a `requestStream()` stage).
 * @returns The record.
 */
export function servedConnection(conn: Connection | undefined): ServedConnection {
  return {
    conn: conn as Connection,
    stopReading: () => {},
    inFlight: new Set(),
    closed: false,
  };
}
