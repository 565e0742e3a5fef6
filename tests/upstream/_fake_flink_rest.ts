/**
 * A fake Flink JobManager REST API for the discovery tests: `GET /taskmanagers`
 * answers with Flink 1.19's `TaskManagersInfo` shape (every field of
 * `TaskManagerInfo` that 1.19 writes: `id`, `path`, `dataPort`, `jmxPort`,
 * `timeSinceLastHeartbeat`, `slotsNumber`, `freeSlots`, `totalResource`,
 * `freeResource`, `hardware`, `memoryConfiguration`, and `blocked`, which
 * Flink writes only when true), or with a failure the test picks.
 * Deno.serve on 127.0.0.1, port 0.
 */

import { serveHttp } from "../oracle/_http.ts";

/** A TaskManager the fake lists. */
export interface FakeTaskManager {
  /** Its host (the RPC address's host). */
  host: string;
  /** Its RPC port. Default 6122. */
  rpcPort?: number;
  /** Its RPC endpoint index (`taskmanager_N`). Default 0. */
  index?: number;
  /** The RPC scheme. Default `pekko.tcp` (1.18+). */
  scheme?: string;
  /** Whether it is blocked (Flink writes `blocked` only when true). */
  blocked?: boolean;
}

/** What the fake answers the next requests with. */
export type FakeMode =
  | { kind: "ok" }
  | { kind: "status"; status: number }
  | { kind: "garbage" }
  | { kind: "json"; body: unknown }
  | { kind: "oversized"; bytes: number; declared: boolean }
  | { kind: "hang" }
  | { kind: "stall-body" };

/** One `TaskManagerInfo` as Flink 1.19's REST API writes it. */
export function taskManagerInfo(tm: FakeTaskManager, n: number): Record<string, unknown> {
  const rpcPort = tm.rpcPort ?? 6122;
  const host = tm.host.includes(":") ? `[${tm.host}]` : tm.host;
  const info: Record<string, unknown> = {
    id: `${tm.host}:${rpcPort}-${(0x4e7a1c + n).toString(16)}`,
    path: `${tm.scheme ?? "pekko.tcp"}://flink@${host}:${rpcPort}/user/rpc/taskmanager_${
      tm.index ?? 0
    }`,
    dataPort: 40213 + n,
    jmxPort: -1,
    timeSinceLastHeartbeat: 1732900000000 + n,
    slotsNumber: 4,
    freeSlots: 2,
    totalResource: {
      cpuCores: 4.0,
      taskHeapMemory: 383,
      taskOffHeapMemory: 0,
      managedMemory: 512,
      networkMemory: 128,
      extendedResources: {},
    },
    freeResource: {
      cpuCores: 2.0,
      taskHeapMemory: 191,
      taskOffHeapMemory: 0,
      managedMemory: 256,
      networkMemory: 64,
      extendedResources: {},
    },
    hardware: {
      cpuCores: 8,
      physicalMemory: 33452351488,
      freeMemory: 536870912,
      managedMemory: 536870920,
    },
    memoryConfiguration: {
      frameworkHeap: 134217728,
      taskHeap: 402653174,
      frameworkOffHeap: 134217728,
      taskOffHeap: 0,
      networkMemory: 134217730,
      managedMemory: 536870920,
      jvmMetaspace: 268435456,
      jvmOverhead: 201326592,
      totalFlinkMemory: 1342177280,
      totalProcessMemory: 1811939328,
    },
  };
  if (tm.blocked === true) info.blocked = true;
  return info;
}

/** A running fake REST API. */
export interface FakeFlinkRest {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly base: string;
  /** The TaskManagers listed in mode `ok`. */
  taskManagers: FakeTaskManager[];
  /** What the next requests get. */
  mode: FakeMode;
  /** The requests seen: method, path and the `authorization` header. */
  readonly requests: { method: string; path: string; authorization: string | null }[];
  /** Resolves when a request is being held (mode `hang` or `stall-body`). */
  held(): Promise<void>;
  /** Stops the server, releasing held requests, and waits until it has finished. */
  close(): Promise<void>;
}

/**
 * Starts the fake.
 *
 * @param taskManagers The TaskManagers listed at first.
 */
export function serveFakeFlinkRest(taskManagers: FakeTaskManager[] = []): FakeFlinkRest {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let onHeld: (() => void) | undefined;
  let heldOnce = false;
  const requests: FakeFlinkRest["requests"] = [];
  const state = {
    taskManagers,
    mode: { kind: "ok" } as FakeMode,
  };
  const markHeld = (): void => {
    heldOnce = true;
    onHeld?.();
  };
  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    requests.push({
      method: req.method,
      path: url.pathname,
      authorization: req.headers.get("authorization"),
    });
    if (url.pathname !== "/taskmanagers" || req.method !== "GET") {
      // Flink's answer to an unknown path.
      return Response.json({ errors: ["Not found: " + url.pathname] }, { status: 404 });
    }
    const mode = state.mode;
    switch (mode.kind) {
      case "ok":
        return Response.json({ taskmanagers: state.taskManagers.map(taskManagerInfo) });
      case "status":
        return Response.json({ errors: ["Internal server error."] }, { status: mode.status });
      case "garbage":
        return new Response("<html><body>502 Bad Gateway</body></html>\u0000\u00ff", {
          headers: { "content-type": "application/json" },
        });
      case "json":
        return Response.json(mode.body);
      case "oversized": {
        const filler = JSON.stringify({
          taskmanagers: [],
          pad: "x".repeat(mode.bytes),
        });
        if (mode.declared) return new Response(filler);
        // Streamed in chunks, no Content-Length.
        const bytes = new TextEncoder().encode(filler);
        let at = 0;
        return new Response(
          new ReadableStream<Uint8Array>({
            pull(c) {
              if (at >= bytes.length) return c.close();
              c.enqueue(bytes.slice(at, at + 1024));
              at += 1024;
            },
          }),
        );
      }
      case "hang":
        markHeld();
        // Until the fake closes (the client gives up long before).
        await released;
        return new Response("late", { status: 503 });
      case "stall-body": {
        let sent = false;
        return new Response(
          new ReadableStream<Uint8Array>({
            async pull(c) {
              if (!sent) {
                sent = true;
                c.enqueue(new TextEncoder().encode('{"taskmanagers": ['));
                return;
              }
              markHeld();
              await released;
              c.close();
            },
          }),
        );
      }
    }
  };
  const http = serveHttp(handler);
  return {
    base: http.base,
    get taskManagers() {
      return state.taskManagers;
    },
    set taskManagers(v: FakeTaskManager[]) {
      state.taskManagers = v;
    },
    get mode() {
      return state.mode;
    },
    set mode(v: FakeMode) {
      state.mode = v;
      heldOnce = false;
    },
    requests,
    held() {
      if (heldOnce) return Promise.resolve();
      return new Promise<void>((r) => (onHeld = r));
    },
    async close() {
      release();
      await http.close();
    },
  };
}
