/**
 * What a listener does when the process runs out of file descriptors, as a
 * runtime-neutral scenario: run in a child process with a low `ulimit -n`
 * (`_emfile_child.ts` under Deno, `tests/node/node_tls.node.ts` under
 * Node), it reports one JSON line that the parent test checks. Every step
 * is bounded in time, so a listener that hangs or spins shows as a step
 * that never reports (the parent kills the child after its own bound).
 */

import type { Connection, Transport } from "../../src/transport/types.ts";

/** Opens and frees descriptors of the child process. */
export interface FdFiller {
  /** Opens descriptors until the process has none left; returns how many. */
  fill(): number;
  /** Frees one. */
  freeOne(): void;
  /** Frees all of them. */
  freeAll(): void;
}

/** What the scenario saw. */
export interface EmfileReport {
  /** How many descriptors it took to run out. */
  filled: number;
  /** The first accept with no descriptor left: `rejected <code>`, `accepted`, or `pending`. */
  firstAccept: string;
  /** The client of that accept: `closed` (its connection ended) or `open`. */
  peer: string;
  /** The next accept once descriptors are free again: `accepted` or what went wrong. */
  afterFreeing: string;
  /** Elapsed milliseconds. */
  ms: number;
}

function outcome<T>(p: Promise<T>, ms: number): Promise<{ value?: T; error?: unknown } | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.then((value) => ({ value }), (error) => ({ error })),
    new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), ms)),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Runs the scenario on `transport`.
 *
 * @param transport The transport under test.
 * @param fds How to use up and free descriptors.
 * @returns The report.
 */
export async function emfileScenario(transport: Transport, fds: FdFiller): Promise<EmfileReport> {
  const started = Date.now();
  const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.address.port;
  const open: Connection[] = [];
  try {
    // A first connection, so that whatever the runtime sets up lazily is there.
    const warmAccept = listener.accept();
    open.push(await transport.connect({ hostname: "127.0.0.1", port }));
    open.push((await warmAccept)!);

    const filled = fds.fill();
    fds.freeOne(); // for the client's socket: the accepted one then finds none
    const client = await transport.connect({ hostname: "127.0.0.1", port });
    open.push(client);
    const first = listener.accept();
    const got = await outcome(first, 2000);
    let firstAccept: string;
    let pending: Promise<Connection | null> | undefined;
    if (got === null) {
      firstAccept = "pending";
      pending = first;
    } else if ("error" in got) {
      const code = (got.error as { code?: unknown })?.code;
      firstAccept = `rejected ${typeof code === "string" ? code : String(got.error)}`;
    } else {
      firstAccept = "accepted";
      if (got.value) open.push(got.value);
    }
    // Deno 2.9.6 can panic on other I/O while no descriptor is left: free them first.
    fds.freeAll();
    const read = await outcome(client.readable.getReader().read(), 2000);
    const peer = read === null ? "open" : "closed";

    const second = await transport.connect({ hostname: "127.0.0.1", port });
    open.push(second);
    const next = await outcome(pending ?? listener.accept(), 3000);
    let afterFreeing: string;
    if (next === null) afterFreeing = "pending";
    else if ("error" in next) afterFreeing = `rejected ${String(next.error)}`;
    else {
      afterFreeing = next.value ? "accepted" : "null";
      if (next.value) open.push(next.value);
    }
    return { filled, firstAccept, peer, afterFreeing, ms: Date.now() - started };
  } finally {
    fds.freeAll();
    for (const c of open) await c.close();
    await listener.close();
  }
}
