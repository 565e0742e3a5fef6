/**
 * A Connection for DirectSession tests: only its direct channel is used;
 * its streams are never read and its addresses are placeholders.
 */

import type { Connection, DirectChannel } from "../../mod.ts";

/** A connection whose `direct()` answers `channel`. */
export function connectionOver(channel: DirectChannel): Connection {
  return {
    readable: new ReadableStream<Uint8Array>(),
    writable: new WritableStream<Uint8Array>(),
    localAddress: { hostname: "127.0.0.1", port: 1 },
    remoteAddress: { hostname: "127.0.0.1", port: 2 },
    close: () => Promise.resolve(),
    direct: () => channel,
  } as Connection;
}
