/**
 * A connection is read either through its streams or through its direct
 * path, never both: the check, and stand-ins for the streams once the direct
 * path is taken.
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

/**
 * Throws unless a connection's direct path may be taken now.
 *
 * @param taken The direct path was taken already.
 * @param streamsMade A stream of the connection was made.
 */
export function checkDirectFree(taken: boolean, streamsMade: boolean): void {
  if (taken || streamsMade) {
    throw new TypeError("The connection's streams or direct path are in use");
  }
}
