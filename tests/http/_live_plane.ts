/**
 * A state plane whose states the test changes while it runs (for the watch
 * route and the explorer page): a KvStateServer with a value, a list, a map
 * and a slow state, a KvStateClientProxy and a QueryableStateClient, all
 * over one transport, and the gateway's handler. Also an SSE reader.
 */

import {
  InMemoryListState,
  InMemoryMapState,
  InMemoryValueState,
  MemoryTransport,
  type QueryableStateClient,
  type Transport,
  TYPE_SERIALIZERS as T,
} from "../../mod.ts";
import type { QueryHandlerOptions } from "../../src/http/mod.ts";
import { BASE, JOB, type Plane, startStatePlane } from "./_plane.ts";

export { BASE, JOB };

export interface LivePlane extends Plane {
  /** `live`: string → long, `hello` = 42 at the start. */
  readonly values: InMemoryValueState<string | null, bigint>;
  /** `livelist`: string → list of string, `a` = ["x"]. */
  readonly lists: InMemoryListState<string | null, string | null>;
  /** `livemap`: string → map of string to long, `m` = {k: 1}. */
  readonly maps: InMemoryMapState<string | null, string | null, bigint>;
}

/** Starts the plane; `makeOptions` may wrap the client (e.g. to count polls). */
export async function startLivePlane(
  makeOptions: (client: QueryableStateClient) => QueryHandlerOptions = (client) => ({ client }),
  transport: Transport = new MemoryTransport(),
): Promise<LivePlane> {
  const values = new InMemoryValueState(T.string, T.long).set("hello", 42n);
  const lists = new InMemoryListState(T.string, T.string).set("a", ["x"]);
  const maps = new InMemoryMapState(T.string, T.string, T.long).set("m", [["k", 1n]]);
  const plane = await startStatePlane(
    [["live", values], ["livelist", lists], ["livemap", maps]],
    makeOptions,
    transport,
  );
  return Object.assign(plane, { values, lists, maps });
}

/** The watch URL of a state, with the given query. */
export function watchUrl(state: string, query: string, job = JOB): string {
  return `${BASE}/v1/jobs/${job}/states/${encodeURIComponent(state)}/watch?${query}`;
}

/** One server-sent event (or a comment, with `event` `":"`). */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

/**
 * Reads the events of an SSE body one by one; `next(ms)` rejects when none
 * comes within `ms`, and resolves `null` at the end of the stream.
 */
export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  #pending: Promise<ReadableStreamReadResult<string>> | undefined;

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.pipeThrough(new TextDecoderStream()).getReader();
  }

  async next(ms = 5000): Promise<SseEvent | null> {
    const deadline = performance.now() + ms;
    for (let round = 0; round < 1000; round++) {
      const end = this.#buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        return parseBlock(block);
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no event within ${ms} ms`);
      this.#pending ??= this.#reader.read();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), left);
      });
      const r = await Promise.race([this.#pending, timeout]);
      clearTimeout(timer);
      if (r === "timeout") throw new Error(`no event within ${ms} ms`);
      this.#pending = undefined;
      if (r.done) return null;
      this.#buffer += r.value;
    }
    throw new Error("too many chunks without an event");
  }

  /** Cancels the body (the client goes away). */
  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

function parseBlock(block: string): SseEvent {
  if (block.startsWith(":")) return { event: ":", data: block.slice(1).trim() };
  let event = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event: ")) event = line.slice(7);
    else if (line.startsWith("data: ")) data.push(line.slice(6));
  }
  return { event, data: data.join("\n") };
}

/** Waits until `cond()` holds, polling every 5 ms, at most `ms`. */
export async function waitFor(cond: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
