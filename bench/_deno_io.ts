/**
 * Raw Deno socket I/O for the hand-written bench servers (baseline
 * forwarder, fast state server): a read loop into one reused buffer that
 * hands every read to a frame handler, and a double-buffered output that
 * writes one batch at a time. No Web Streams.
 *
 * @module
 */

import { OutBuffer, type Sink } from "./_forwarder_core.ts";

/** An output: the handler fills `out`; `flush()` writes it (one write per batch). */
export class DenoSink implements Sink {
  // Small at first; they grow (doubling) when a batch needs more.
  /** The buffer being filled. */
  out: OutBuffer = new OutBuffer(4096);
  /** Listed for the next flush. */
  touched = false;
  /** The connection is gone. */
  closed = false;
  #spare = new OutBuffer(4096);
  #writing = false;
  readonly #conn: Deno.Conn;
  readonly #onError: (e: unknown) => void;

  /**
   * @param conn The connection.
   * @param onError Called when a write fails.
   */
  constructor(conn: Deno.Conn, onError: (e: unknown) => void) {
    this.#conn = conn;
    this.#onError = onError;
  }

  /** Writes what `out` holds, unless a write is in progress (it will follow). */
  flush(): void {
    if (!this.#writing && this.out.len > 0) this.#loop();
  }

  async #loop(): Promise<void> {
    this.#writing = true;
    try {
      // Swap buffers: the handler fills one while the other is being written.
      while (this.out.len > 0) {
        const b = this.out;
        this.out = this.#spare;
        this.#spare = b;
        let off = 0;
        while (off < b.len) off += await this.#conn.write(b.buf.subarray(off, b.len));
        b.len = 0;
      }
    } catch (e) {
      this.#onError(e);
    } finally {
      this.#writing = false;
    }
  }
}

/**
 * Reads a connection until it ends: each read lands after the partial frame
 * kept from the last one, `handle` consumes the whole frames, `afterBatch`
 * runs (flush), and the rest moves to the front.
 *
 * @param conn The connection.
 * @param size The initial buffer size (it grows when a frame does not fit).
 * @param handle Consumes whole frames of `b[0..end)`; returns the bytes used.
 * @param afterBatch Runs after each read's frames.
 */
export async function readLoop(
  conn: Deno.Conn,
  size: number,
  handle: (b: Uint8Array, end: number) => number,
  afterBatch: () => void,
): Promise<void> {
  let buf = new Uint8Array(size);
  let len = 0;
  for (;;) {
    const n = await conn.read(buf.subarray(len));
    if (n === null) return;
    const end = len + n;
    const used = handle(buf, end);
    afterBatch();
    len = end - used;
    if (used > 0 && len > 0) buf.copyWithin(0, used, end);
    const need = len >= 4
      ? 4 + ((buf[0] << 24) | (buf[1] << 16) | (buf[2] << 8) | buf[3])
      : buf.length;
    if (need > buf.length || len === buf.length) {
      const g = new Uint8Array(Math.max(need, buf.length * 2));
      g.set(buf.subarray(0, len));
      buf = g;
    }
  }
}

/**
 * Serves every connection of `listener` with `handle` (frames in, answers
 * appended to the connection's sink; returns how many bytes it used), one
 * write per read batch, until the listener closes.
 *
 * @param listener The listener.
 * @param handle Handles the bytes read so far (see {@linkcode readLoop}).
 * @returns Resolves when the listener is closed.
 */
export async function serveConnections(
  listener: Deno.TcpListener,
  handle: (sink: DenoSink, b: Uint8Array, end: number) => number,
): Promise<void> {
  for await (const conn of listener) {
    conn.setNoDelay(true);
    const close = () => {
      try {
        conn.close();
      } catch {
        // gone
      }
    };
    const sink = new DenoSink(conn, close);
    readLoop(conn, 64 * 1024, (b, end) => handle(sink, b, end), () => sink.flush())
      .catch(() => {})
      .finally(close);
  }
}
