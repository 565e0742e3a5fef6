/**
 * A local HTTP server for the HttpLocationOracle tests.
 */

/** A running local HTTP server. */
export interface LocalHttp {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  base: string;
  /** Stops it and waits until it has finished. */
  close(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1, port 0, without the "Listening on" line. */
export function serveHttp(handler: Deno.ServeHandler): LocalHttp {
  const ac = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen: () => {},
  }, handler);
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    async close() {
      ac.abort();
      await server.finished;
    },
  };
}
