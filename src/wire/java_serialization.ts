/**
 * Java Object Serialization of `Throwable`s (PROTOCOL §3): the writer that
 * emits a failure the way JDK 17's `ObjectOutputStream` does, and a reader
 * that parses any serialization stream holding a `Throwable` into a
 * {@linkcode JavaThrowable}.
 *
 * The reader parses, it never executes: nothing in the stream is looked up,
 * instantiated or called. It enforces {@linkcode JavaSerializationLimits} and
 * reports every problem (malformed, truncated, over a limit, not a Throwable)
 * as a {@linkcode JavaSerializationError}.
 *
 * @module
 */

export { writeJavaThrowable } from "./java_serialization_writer.ts";
export {
  DEFAULT_JAVA_SERIALIZATION_LIMITS,
  type JavaSerializationLimits,
  peekJavaClassName,
  readJavaThrowable,
} from "./java_serialization_reader.ts";
