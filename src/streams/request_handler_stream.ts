/**
 * The concurrent request stage between the frame decoder and encoder.
 *
 * @module
 */

/**
 * Answers one request frame: returns the encoded response frame (length
 * prefix included), `null` for no response, or a promise of either. It must
 * not throw for bad input: protocol errors are answered with failure frames.
 */
export type FrameHandler = (
  frame: Uint8Array,
) => Uint8Array | null | Promise<Uint8Array | null>;

/** Options of {@linkcode RequestHandlerStream}. */
export interface RequestHandlerStreamOptions {
  /**
   * The most requests of this stream (one connection) in progress at once.
   * When reached, the stage stops taking input until one finishes, so the
   * connection is no longer read: backpressure, not an error. Default 1024.
   */
  readonly maxInFlight?: number;
}

/**
 * Runs a {@linkcode FrameHandler} on every frame of every input batch,
 * concurrently, and emits the responses in batches as they finish, in any
 * order (responses carry their request id). Responses that are ready at once
 * leave in the batch of their request; asynchronous ones that finish in the
 * same tick leave together.
 *
 * When the input ends, the stage waits for the requests in progress and then
 * ends its output. If the handler throws, the stream errors.
 *
 * @example An echo stage
 * ```ts
 * import { RequestHandlerStream } from "@kvstate/queryable-state";
 *
 * const stage = new RequestHandlerStream(async (frame) => frame);
 * const out = await Array.fromAsync(
 *   ReadableStream.from([[new Uint8Array([1]), new Uint8Array([2])]]).pipeThrough(stage),
 * );
 * out.flat().length; // => 2
 * ```
 */
export class RequestHandlerStream extends TransformStream<Uint8Array[], Uint8Array[]> {
  /**
   * Creates a RequestHandlerStream.
   *
   * @param handler Answers one frame.
   * @param options The concurrency bound.
   */
  constructor(handler: FrameHandler, options: RequestHandlerStreamOptions = {}) {
    const max = options.maxInFlight ?? 1024;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError("maxInFlight must be a positive integer");
    }
    let controller!: TransformStreamDefaultController<Uint8Array[]>;
    let inFlight = 0;
    let ready: Uint8Array[] = [];
    let scheduled = false;
    let resumeInput: (() => void) | null = null;
    let drained: (() => void) | null = null;

    const emit = (): void => {
      scheduled = false;
      if (ready.length === 0) return;
      const batch = ready;
      ready = [];
      try {
        controller.enqueue(batch);
      } catch {
        // The output was cancelled (connection gone): nothing to deliver to.
      }
    };
    const settle = (response: Uint8Array | null): void => {
      inFlight--;
      if (response !== null) {
        ready.push(response);
        if (!scheduled) {
          scheduled = true;
          queueMicrotask(emit);
        }
      }
      if (resumeInput !== null && inFlight < max) {
        const resume = resumeInput;
        resumeInput = null;
        resume();
      }
      if (inFlight === 0 && drained !== null) drained();
    };
    const fail = (err: unknown): void => {
      inFlight--;
      try {
        controller.error(err);
      } catch {
        // Already errored or closed.
      }
      resumeInput?.();
      resumeInput = null;
      drained?.();
    };

    super({
      start(c) {
        controller = c;
      },
      transform(batch) {
        for (let i = 0; i < batch.length; i++) {
          const r = handler(batch[i]);
          if (r === null) continue;
          if (r instanceof Uint8Array) {
            ready.push(r);
          } else {
            inFlight++;
            r.then(settle, fail);
          }
        }
        if (ready.length > 0 && !scheduled) emit();
        if (inFlight < max) return undefined;
        return new Promise<void>((resolve) => {
          resumeInput = resolve;
        });
      },
      async flush() {
        if (inFlight > 0) {
          await new Promise<void>((resolve) => {
            drained = resolve;
          });
        }
        emit();
      },
    });
  }
}
