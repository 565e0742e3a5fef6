/**
 * One multiplexed connection of the network client to one address: its
 * requests in flight, its outbox, its reads and writes.
 *
 * @module
 */

import { markServerFailure } from "./server_failure.ts";
import { DecoderState, DEFAULT_MAX_FRAME_LENGTH } from "../streams/frame_decoder_stream.ts";
import type { KvStateRequestStats } from "../server/stats.ts";
import type {
  Connection,
  DirectChannel,
  DirectHandler,
  NetAddress,
  Transport,
} from "../transport/types.ts";
import {
  ConnectError,
  ConnectionClosedError,
  DeadlineExceededError,
  errorFromJavaThrowable,
  FrameLengthError,
  ProtocolError,
  QueryableStateError,
  RequestQueueFullError,
  withSerializedThrowable,
} from "../wire/errors.ts";
import { type JavaSerializationLimits, readJavaThrowable } from "../wire/java_serialization.ts";
import type { KvStateId } from "../wire/ids.ts";
import { decodeKvStateResponse, decodeMessage, MessageType, VERSION } from "../wire/messages.ts";
import { FailureDecoder } from "../wire/failure_decoder.ts";
import { FailureMemo } from "../wire/failure_memo.ts";
import { type RequestFailureOutcome, requestFailureOutcome } from "../server/request_outcome.ts";
import { Outbox } from "./outbox.ts";
import {
  type InternalErrorSink,
  type Pending,
  settleAbsent,
  settleErr,
  settleOk,
} from "./pending.ts";
import { PendingTable } from "./pending_table.ts";
import { formatAddress as hostPortText } from "../transport/net_address.ts";

/**
 * @internal An address as text (`host:port`, `[v6]:port`).
 *
 * @param a The address.
 * @returns The text.
 */
export function addressKey(a: NetAddress): string {
  return hostPortText(a.hostname, a.port);
}

/** @internal Appends one request frame, for the request id given, to a connection's outbox. */
export type FrameWriter = (out: Outbox, id: number) => void;

/** @internal What a connection needs of its client (`NetworkClient` is one). */
export interface ConnectionOwner extends InternalErrorSink {
  /** How long a connection attempt may take, in ms (0: no limit). */
  readonly connectTimeoutMs: number;
  /** The bound on the unwritten request bytes of one connection. */
  readonly maxQueuedBytesPerConnection: number;
  /** Where to report statistics (never throws). */
  readonly statsSink: KvStateRequestStats | undefined;
  /**
   * Told of a connection's events, for the log (never throws): `detail` is
   * the requests pending for `connection_lost`, the bound for
   * `request_queue_full`.
   */
  logConnection?(
    event: ConnectionEvent,
    address: NetAddress,
    error: unknown,
    detail: number,
  ): void;
}

/** @internal What a connection tells its owner's log. */
export type ConnectionEvent =
  | "connect_failed"
  | "connected"
  | "connection_lost"
  | "request_queue_full";

/** @internal The client options a connection reads (`NetworkClientOptions` has them). */
export interface ServerConnectionOptions {
  /** How to connect. */
  readonly transport: Transport;
  /** The largest response frame accepted. */
  readonly maxFrameLength?: number;
  /** Limits for reading the Java-serialized failures peers send. */
  readonly javaSerializationLimits?: Partial<JavaSerializationLimits>;
}

/**
 * @internal One TCP connection to one address, with its pending requests.
 *
 * Requests are encoded into one {@linkcode Outbox} as they come, whether the
 * connection is open or still opening; a write takes the whole outbox at
 * once, and a fresh one collects what comes meanwhile. The outbox is what a
 * peer that does not read makes grow: it is bounded (a request past the
 * bound fails at once), and the frame of a request that expires or is
 * aborted before a write took it is cut out of it (each request remembers
 * where its frame starts and in which outbox generation).
 */
export class ServerConnection {
  readonly #client: ConnectionOwner;
  readonly address: NetAddress;
  readonly #options: ServerConnectionOptions;
  readonly #onDead: () => void;
  /** By request id. Not a `Map`: see {@linkcode PendingTable} for why. */
  readonly #pending = new PendingTable<Pending>();
  /**
   * The statistics outcome of each distinct failure body answered to a raw
   * (forwarded) request, classified once per body: such a failure is not
   * otherwise parsed here. Made at the first one, when there are statistics.
   */
  #rawOutcomes: FailureMemo<RequestFailureOutcome> | undefined;
  readonly #decoder: DecoderState;
  readonly #maxQueued: number;
  #nextId = 0;
  #conn: Connection | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  /** The connection's direct path, when its transport offers one (then no writer). */
  #io: DirectChannel | undefined;
  /** Request frames that no write has taken yet, encoded in place. */
  readonly #out = new Outbox();
  /** A write is in progress, or the transport asked to wait for `drain`, or the connection is opening. */
  #writing = true;
  #flushScheduled = false;
  #closed: Promise<void> | undefined;
  /** Aborts the connect in progress (a timeout, or the connection failed meanwhile). */
  readonly #connecting = new AbortController();
  readonly #opening: Promise<void>;
  /** Failure bodies into errors, each distinct body parsed once; made at the first failure. */
  #failures: FailureDecoder | undefined;
  dead = false;

  constructor(
    client: ConnectionOwner,
    address: NetAddress,
    options: ServerConnectionOptions,
    onDead: () => void,
  ) {
    this.#client = client;
    this.address = address;
    this.#options = options;
    this.#onDead = onDead;
    this.#maxQueued = client.maxQueuedBytesPerConnection;
    this.#decoder = new DecoderState(options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH);
    this.#opening = this.#open();
  }

  /** Request bytes that no write has taken yet (not counting abandoned requests'). */
  get queuedBytes(): number {
    return this.#out.queuedBytes;
  }

  /** Requests written (or queued) and not yet answered, failed or expired. */
  get pendingRequests(): number {
    return this.#pending.size;
  }

  /** Connects (within the connect timeout), then writes what was queued meanwhile. Never rejects. */
  async #open(): Promise<void> {
    const timeoutMs = this.#client.connectTimeoutMs;
    const controller = this.#connecting;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let connecting: Promise<Connection> | undefined;
    let conn: Connection;
    try {
      connecting = this.#options.transport.connect({
        hostname: this.address.hostname,
        port: this.address.port,
        signal: controller.signal,
        keepAlive: true,
      });
      // Raced with the abort, so that a transport that ignores the signal cannot hold us.
      conn = await new Promise<Connection>((resolve, reject) => {
        if (controller.signal.aborted) reject(controller.signal.reason);
        controller.signal.addEventListener("abort", () => reject(controller.signal.reason), {
          once: true,
        });
        if (timeoutMs > 0) {
          timer = setTimeout(
            () =>
              controller.abort(
                new ConnectError(`Connection timed out: ${addressKey(this.address)}`),
              ),
            timeoutMs,
          );
        }
        connecting!.then(resolve, reject);
      });
    } catch (err) {
      clearTimeout(timer);
      // A connection that arrives after all is closed at once.
      connecting?.then((late) => late.close().catch(() => {}), () => {});
      const e = err instanceof ConnectError ? err : new ConnectError(
        `Could not connect to ${addressKey(this.address)}: ${(err as Error)?.message}`,
        { cause: err },
      );
      // Not when the connection was failed (or the client closed) meanwhile.
      if (!this.dead) this.#client.logConnection?.("connect_failed", this.address, e, 0);
      // Not awaited: fail() waits for this very attempt to end.
      this.fail(e);
      return;
    }
    clearTimeout(timer);
    if (this.dead) {
      await conn.close().catch(() => {});
      return;
    }
    this.#conn = conn;
    this.#client.logConnection?.("connected", this.address, undefined, 0);
    try {
      if (conn.direct !== undefined) this.#io = conn.direct(this.#directHandler());
      else this.#writer = conn.writable.getWriter();
      this.#client.statsSink?.reportActiveConnection();
      if (this.#io === undefined) this.#readLoop(conn);
      this.#writing = false;
      if (this.#out.length > 0) this.#writeOut();
    } catch (e) {
      this.#internalFailure(e);
    }
  }

  /** A fault of ours (or of the transport) on this connection: counted, and the connection fails. */
  #internalFailure(err: unknown): void {
    this.#client.reportInternalError(err);
    this.fail(this.#connectionError(err));
  }

  /** The direct path's events: frames straight from each chunk read. Never throw. */
  #directHandler(): DirectHandler {
    const frames: Uint8Array[] = [];
    return {
      data: (chunk) => {
        if (this.dead) return;
        try {
          const err = this.#decoder.push(chunk, frames, true);
          for (let i = 0; i < frames.length; i++) {
            this.#onFrame(frames[i]);
            if (this.dead) return;
          }
          if (err !== null) throw err;
        } catch (e) {
          this.fail(this.#connectionError(e));
        } finally {
          frames.length = 0;
        }
      },
      end: (error) => {
        if (this.dead) return;
        this.fail(
          error === undefined
            ? new ConnectionClosedError(`Connection closed by peer ${addressKey(this.address)}`)
            : this.#connectionError(error),
        );
      },
      drain: () => {
        this.#writing = false;
        if (this.#out.length > 0 && !this.dead) {
          try {
            this.#flushDirect();
          } catch (e) {
            this.#internalFailure(e);
          }
        }
      },
    };
  }

  #connectionError(err: unknown): unknown {
    if (err instanceof FrameLengthError && isTlsRecordHeader(err.length)) {
      return new ProtocolError(
        `The peer ${addressKey(this.address)} answered with a TLS record, not a frame: it ` +
          `speaks TLS; connect to it with TLS (the transport's connectTls)`,
        "java.lang.IllegalStateException",
        { cause: err },
      );
    }
    return err instanceof QueryableStateError ? err : new ConnectionClosedError(
      `Connection to ${addressKey(this.address)} failed: ${(err as Error)?.message}`,
      { cause: err },
    );
  }

  /** Registers a request whose frame `write` encodes (the general path). */
  enqueue(pending: Pending, write: FrameWriter): void {
    pending.connection = this;
    const id = this.#nextId++;
    const out = this.#out;
    let mark = out.length;
    try {
      for (let attempt = 0;; attempt++) {
        write(out, id);
        const size = out.length - mark;
        if (size < 4 || out.lengthPrefixAt(mark) !== size - 4) {
          throw new TypeError(`A request frame's length prefix must be its length less 4`);
        }
        if (mark === 0 || out.length <= this.#maxQueued) break;
        out.truncate(mark);
        // Once more after cutting out abandoned frames, if there are any.
        if (attempt > 0 || out.holeBytes === 0) {
          this.#client.statsSink?.reportFailedRequest("refused");
          settleErr(this.#client, pending, this.#queueFull(size));
          this.#client.logConnection?.(
            "request_queue_full",
            this.address,
            undefined,
            this.#maxQueued,
          );
          return;
        }
        this.#compact();
        mark = out.length;
      }
    } catch (err) {
      out.truncate(mark);
      settleErr(this.#client, pending, err);
      return;
    }
    this.#track(pending, id, mark);
  }

  /** The forwarding fast path: register and encode without a closure. */
  sendInternal(pending: Pending, kvStateId: KvStateId, kn: Uint8Array): void {
    pending.connection = this;
    const out = this.#out;
    if (
      out.length > 0 && out.length + 40 + kn.length > this.#maxQueued && this.#full(40 + kn.length)
    ) {
      this.#client.statsSink?.reportFailedRequest("refused");
      settleErr(this.#client, pending, this.#queueFull(40 + kn.length));
      this.#client.logConnection?.("request_queue_full", this.address, undefined, this.#maxQueued);
      return;
    }
    const mark = out.length;
    const id = this.#nextId++;
    try {
      out.appendInternal(id, kvStateId, kn);
    } catch (err) {
      out.truncate(mark);
      settleErr(this.#client, pending, err);
      return;
    }
    this.#track(pending, id, mark);
  }

  /**
   * A whole request (its body copied after a REQUEST header with the id this
   * connection assigns): registered and encoded without a closure, as
   * {@linkcode ServerConnection.sendInternal}.
   */
  sendRequest(pending: Pending, body: Uint8Array): void {
    pending.connection = this;
    const out = this.#out;
    const size = 20 + body.length;
    if (out.length > 0 && out.length + size > this.#maxQueued && this.#full(size)) {
      this.#client.statsSink?.reportFailedRequest("refused");
      settleErr(this.#client, pending, this.#queueFull(size));
      this.#client.logConnection?.("request_queue_full", this.address, undefined, this.#maxQueued);
      return;
    }
    const mark = out.length;
    const id = this.#nextId++;
    try {
      out.appendRequest(id, body);
    } catch (err) {
      out.truncate(mark);
      settleErr(this.#client, pending, err);
      return;
    }
    this.#track(pending, id, mark);
  }

  /** Whether a frame of `size` bytes is refused, once abandoned frames are cut out. */
  #full(size: number): boolean {
    if (this.#out.holeBytes > 0) this.#compact();
    const n = this.#out.length;
    return n > 0 && n + size > this.#maxQueued;
  }

  #track(pending: Pending, id: number, at: number): void {
    pending.id = id;
    this.#out.mark(pending, at);
    this.#pending.set(pending);
    this.#client.statsSink?.reportRequest();
    this.#scheduleFlush();
  }

  #queueFull(size: number): RequestQueueFullError {
    return new RequestQueueFullError(
      `Request queue to ${
        addressKey(this.address)
      } is full: ${this.#out.length} bytes wait to be ` +
        `written, a request of ${size} bytes would go past maxQueuedBytesPerConnection ` +
        `(${this.#maxQueued}); the peer does not keep up`,
    );
  }

  /** Takes a request back (aborted): its frame leaves the outbox if no write took it yet. */
  forget(pending: Pending): void {
    if (pending.id >= 0) this.#pending.delete(pending);
    const out = this.#out;
    out.cutOut(pending);
    // Amortized: compact once abandoned frames are half the outbox.
    if (out.holeBytes > 0 && 2 * out.holeBytes >= out.length) this.#compact();
  }

  /** Cuts the abandoned frames out of the outbox. */
  #compact(): void {
    this.#out.compact(this.#pending.values());
  }

  #scheduleFlush(): void {
    if (this.#writing || this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(this.#flushTask);
  }

  /** The scheduled flush (one function per connection). Never throws. */
  #flushTask = (): void => {
    this.#flushScheduled = false;
    if (this.#writing || this.dead) return;
    try {
      this.#writeOut();
    } catch (e) {
      this.#internalFailure(e);
    }
  };

  /** Starts writing the outbox, on whichever path the connection has. */
  #writeOut(): void {
    if (this.#io !== undefined) this.#flushDirect();
    else {
      this.#flush().catch((e) => this.#internalFailure(e));
    }
  }

  /** Direct path: writes the outbox now; after a full buffer, `drain` writes the rest. */
  #flushDirect(): void {
    if (this.#out.length === 0 || this.dead) return;
    const bytes = this.#out.take();
    try {
      this.#writing = !this.#io!.write(bytes);
    } catch (err) {
      this.fail(
        new ConnectionClosedError(`Write to ${addressKey(this.address)} failed`, { cause: err }),
      );
    }
  }

  /**
   * Stream path: writes what the outbox holds, one write at a time (the next
   * only once the last one completed); requests added meanwhile go out
   * together in the next round.
   */
  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#out.length > 0 && !this.dead) {
        await this.#writer!.write(this.#out.take());
      }
    } catch (err) {
      await this.fail(
        new ConnectionClosedError(`Write to ${addressKey(this.address)} failed`, { cause: err }),
      );
    } finally {
      this.#writing = false;
    }
  }

  /** Stream path: reads response frames until the end. Never rejects. */
  async #readLoop(conn: Connection): Promise<void> {
    const frames: Uint8Array[] = [];
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    try {
      reader = conn.readable.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const err = this.#decoder.push(value, frames, true);
        for (let i = 0; i < frames.length; i++) {
          this.#onFrame(frames[i]);
          if (this.dead) return;
        }
        frames.length = 0;
        if (err !== null) throw err;
      }
      await this.fail(
        new ConnectionClosedError(`Connection closed by peer ${addressKey(this.address)}`),
      );
    } catch (err) {
      if (this.dead) return;
      await this.fail(this.#connectionError(err));
    } finally {
      try {
        reader?.releaseLock();
      } catch (e) {
        this.#client.reportInternalError(e);
      }
    }
  }

  /**
   * Handles one response frame, length prefix included (the decoder hands
   * frames over that way, so a relayed frame needs no new view); throws to
   * fail the connection.
   */
  #onFrame(f: Uint8Array): void {
    // Header, read in place; anything unusual goes through decodeMessage for its exact error.
    if (
      f.length < 20 ||
      ((f[4] << 24) | (f[5] << 16) | (f[6] << 8) | f[7]) !== VERSION ||
      f[8] !== 0 || f[9] !== 0 || f[10] !== 0 || f[11] === 0 || f[11] > 2
    ) {
      const m = decodeMessage(f.subarray(4)); // throws ProtocolError: connection-fatal
      if (m.type === MessageType.SERVER_FAILURE) {
        throw markServerFailure(withSerializedThrowable(
          errorFromJavaThrowable(readJavaThrowable(m.body, this.#options.javaSerializationLimits)),
          m.body,
        ));
      }
      throw new ProtocolError(
        "Unexpected message type REQUEST. Expected REQUEST_RESULT, REQUEST_FAILURE or SERVER_FAILURE.",
        "java.lang.IllegalStateException",
      );
    }
    const hi = (f[12] << 24) | (f[13] << 16) | (f[14] << 8) | f[15];
    const lo = ((f[16] << 24) | (f[17] << 16) | (f[18] << 8) | f[19]) >>> 0;
    const p = hi >= 0 && hi < 0x200000 ? this.#pending.get(hi * 4294967296 + lo) : undefined;
    if (f[11] === MessageType.REQUEST_RESULT) {
      // Validates the content length whether or not anyone waits for it.
      const len = f.length >= 24 ? (f[20] << 24) | (f[21] << 16) | (f[22] << 8) | f[23] : -1;
      const whole = len >= 0 && 24 + len <= f.length;
      const content = whole && p?.raw !== undefined ? null : decodeKvStateResponse(f.subarray(20));
      if (p === undefined) return; // late or unknown: dropped
      this.#pending.delete(p);
      this.#client.statsSink?.reportSuccessfulRequest(performance.now() - p.sentAt);
      settleOk(this.#client, p, f, content);
      return;
    }
    // REQUEST_FAILURE
    if (p === undefined) return;
    if (p.raw !== undefined) {
      // The receiver decides whether it needs the Throwable parsed.
      this.#pending.delete(p);
      const sink = this.#client.statsSink;
      if (sink !== undefined) sink.reportFailedRequest(this.#rawOutcome(f));
      settleOk(this.#client, p, f, null);
      return;
    }
    // A Throwable that does not parse fails the whole connection (and so this request too).
    // Each distinct body is parsed once: the same failure again is a byte comparison.
    const failures = this.#failureDecoder();
    if (p.absentIsUndefined) {
      // A miss is a normal outcome for this request: told from the memo, no error built.
      const err = failures.decodeUnlessAbsent(f, 20);
      this.#pending.delete(p);
      this.#client.statsSink?.reportFailedRequest(
        err === null ? "unknown_key" : requestFailureOutcome(err, true),
      );
      if (err === null) settleAbsent(this.#client, p);
      else settleErr(this.#client, p, err);
      return;
    }
    const err = failures.decode(f.subarray(20));
    this.#pending.delete(p);
    this.#client.statsSink?.reportFailedRequest(requestFailureOutcome(err, true));
    settleErr(this.#client, p, err);
  }

  /** The failure decoder, made at the first failure. */
  #failureDecoder(): FailureDecoder {
    return this.#failures ??= new FailureDecoder({
      javaSerializationLimits: this.#options.javaSerializationLimits,
    });
  }

  /**
   * The outcome of the failure frame `f` of a raw request: from the memo,
   * or parsed once (a body that does not parse is an upstream failure).
   */
  #rawOutcome(f: Uint8Array): RequestFailureOutcome {
    const memo = this.#rawOutcomes ??= new FailureMemo<RequestFailureOutcome>();
    let outcome = memo.get(f, 20);
    if (outcome !== undefined) return outcome;
    let err: unknown;
    try {
      err = this.#failureDecoder().decode(f.subarray(20));
    } catch (e) {
      err = e;
    }
    outcome = requestFailureOutcome(err, true);
    memo.add(f.subarray(20), outcome);
    return outcome;
  }

  /**
   * Fails requests past their deadline, and cuts the frames of those that no
   * write took yet out of the outbox. @returns The number still pending.
   */
  expire(now: number): number {
    let left = 0;
    let expired: Pending[] | undefined;
    // Once per tick: gives back the slots of a burst.
    this.#pending.trim();
    for (const p of this.#pending.values()) {
      if (p.deadline <= now) (expired ??= []).push(p);
      else if (p.deadline !== Infinity) left++;
    }
    if (expired === undefined) return left;
    for (const p of expired) {
      this.#pending.delete(p);
      this.#out.cutOut(p);
    }
    this.#compact();
    for (const p of expired) {
      this.#client.statsSink?.reportFailedRequest("deadline");
      settleErr(
        this.#client,
        p,
        new DeadlineExceededError(
          `Request to ${addressKey(this.address)} did not complete within ${
            Math.round(p.deadline - p.sentAt)
          } ms`,
        ),
      );
    }
    return left;
  }

  /**
   * Closes the connection and fails everything pending on it with `err`.
   * Idempotent; never rejects.
   */
  fail(err: unknown): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    this.dead = true;
    this.#onDead();
    this.#connecting.abort(err);
    const pending = this.#pending.values();
    if (this.#conn !== undefined) {
      this.#client.logConnection?.("connection_lost", this.address, err, pending.length);
    }
    this.#pending.clear();
    this.#out.clear();
    const outcome = pending.length === 0 ? "failure" : requestFailureOutcome(err, true);
    for (const p of pending) {
      this.#client.statsSink?.reportFailedRequest(outcome);
      settleErr(this.#client, p, err);
    }
    this.#closed = (async () => {
      // A connect in progress ends first (and closes what it opened).
      await this.#opening;
      const conn = this.#conn;
      if (conn !== undefined) {
        await conn.close().catch(() => {});
        this.#client.statsSink?.reportInactiveConnection();
      }
    })();
    return this.#closed;
  }
}

/**
 * Whether a frame length field is in fact the start of a TLS record (an
 * alert or a handshake, protocol version 3.x): what a plaintext client reads
 * from a TLS server.
 */
function isTlsRecordHeader(length: number): boolean {
  const type = length >>> 24;
  return (type === 0x15 || type === 0x16) && ((length >>> 16) & 0xff) === 0x03 &&
    ((length >>> 8) & 0xff) <= 0x04;
}
