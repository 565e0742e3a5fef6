/**
 * What a server keeps per connection it serves, and what its session shows
 * of itself to the server's watchdog.
 *
 * @module
 */

import type { Connection } from "../transport/types.ts";
import type { DirectSession } from "./direct_session.ts";
import type { InFlight } from "./in_flight.ts";
import type { InputSource } from "./input_hold.ts";

/** @internal What a session shows of itself to the server's connection watchdog. */
export interface SessionProbe {
  /** Grows with every chunk read and every write completed. */
  readonly activity: number;
  /** Requests in progress. */
  readonly inFlight: number;
  /** The partial frame held over: 0 for none, else the same number until it completes. */
  readonly partialFrame: number;
  /** Fails the connection as a framing error does (failure frame, FIN, linger, close). */
  fail(err: Error): void;
}

/** @internal One connection a server serves (or one `requestStream()` stage). */
export interface ServedConnection {
  readonly conn: Connection;
  /** The peer's host name, for the per-address count ("" when none). */
  readonly host: string;
  /** Stops reading new requests (server shutdown). */
  stopReading: () => void;
  /** Its asynchronous requests on the regular path. */
  readonly inFlight: Set<InFlight>;
  closed: boolean;
  /** The direct path's session, which takes asynchronous answers without a promise. */
  session?: DirectSession;
  /** The session, for the watchdog; unset until the session runs. */
  probe?: SessionProbe;
  /** The session, for the requests that keep the bytes they were read with. */
  input?: InputSource;
  /** Watchdog: the activity seen at the last check. */
  seenActivity: number;
  /** Watchdog: when the connection was last seen busy or active (ms, `performance.now()`). */
  activeAt: number;
  /** Watchdog: the partial frame seen at the last check. */
  seenPartial: number;
  /** Watchdog: when that partial frame was first seen. */
  partialSince: number;
  /** Watchdog: already failed or closed by it. */
  expired: boolean;
}

/**
 * @internal A fresh record for a connection.
 *
 * @param conn The connection (`undefined` for a `requestStream()` stage).
 * @param now The time now (`performance.now()`).
 * @returns The record.
 */
export function servedConnection(conn: Connection | undefined, now: number): ServedConnection {
  return {
    conn: conn as Connection,
    host: conn?.remoteAddress?.hostname ?? "",
    stopReading: () => {},
    inFlight: new Set(),
    closed: false,
    seenActivity: 0,
    activeAt: now,
    seenPartial: 0,
    partialSince: now,
    expired: false,
  };
}
