/**
 * Stand-ins for the streams of a connection whose direct path is taken.
 *
 * @module
 */

/** @returns A readable that is locked (and never yields anything). */
export function lockedReadable(): ReadableStream<Uint8Array> {
  const stream = new ReadableStream<Uint8Array>();
  stream.getReader();
  return stream;
}

/** @returns A writable that is locked. */
export function lockedWritable(): WritableStream<Uint8Array> {
  const stream = new WritableStream<Uint8Array>();
  stream.getWriter();
  return stream;
}
