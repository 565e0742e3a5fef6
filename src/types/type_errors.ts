/**
 * The errors of type descriptors, each naming where in the value the
 * problem is: `value.tags[3]`, `key[1]`, `value.customer.name`.
 *
 * Composite descriptors put their part's segment in front of the path as an
 * error passes through them ({@linkcode errorUnder}); the code that starts
 * the walk names the root (`key` or `value`) with {@linkcode errorAtRoot}.
 *
 * @module
 */

import { ProtocolError } from "../wire/errors.ts";

/** The root every path starts from unless a caller names another. */
const DEFAULT_ROOT = "value";

/**
 * A JS value that does not match its descriptor (wrong JS type, out of the
 * Java type's range, a missing POJO field, a null where the serializer has
 * no null marker, an unknown enum constant, …).
 *
 * @example
 * ```ts
 * import { TypeValueError, types } from "@kvstate/queryable-state";
 * import { serializeValue } from "@kvstate/queryable-state/wire";
 *
 * const t = types.tuple(types.string, types.long);
 * try {
 *   serializeValue(t, ["a", 1] as never);
 * } catch (e) {
 *   (e as TypeValueError).path; // => "value[1]"
 * }
 * ```
 */
export class TypeValueError extends TypeError {
  /** Where in the value: the root, then `.field` and `[index]` segments. */
  readonly path: string;
  /** What is wrong, without the path. */
  readonly problem: string;

  /**
   * Creates the error.
   *
   * @param problem What is wrong.
   * @param path Where (default `"value"`).
   * @param options The cause.
   */
  constructor(problem: string, path: string = DEFAULT_ROOT, options?: { cause?: unknown }) {
    super(`${path}: ${problem}`, options);
    this.path = path;
    this.problem = problem;
  }

  /** `"TypeValueError"`. */
  override get name(): string {
    return "TypeValueError";
  }
}

/**
 * Bytes that do not match their descriptor: truncated, bytes left over, a
 * null marker or flag the serializer does not write, an unknown enum
 * ordinal, a length the bytes cannot hold. A {@linkcode ProtocolError}
 * whose `javaClassName` is the exception Flink's serializer raises for the
 * same bytes.
 *
 * @example
 * ```ts
 * import { TypeDecodeError, types } from "@kvstate/queryable-state";
 * import { deserializeValue, fromHex } from "@kvstate/queryable-state/wire";
 *
 * try {
 *   deserializeValue(types.tuple(types.int, types.int), fromHex("00000001"));
 * } catch (e) {
 *   (e as TypeDecodeError).path; // => "value[1]"
 * }
 * ```
 */
export class TypeDecodeError extends ProtocolError {
  /** Where in the value: the root, then `.field` and `[index]` segments. */
  readonly path: string;
  /** What is wrong, without the path. */
  readonly problem: string;

  /**
   * Creates the error.
   *
   * @param problem What is wrong.
   * @param path Where (default `"value"`).
   * @param javaClassName The Java exception Flink raises for the same bytes
   *   (default `java.io.IOException`).
   * @param options The cause.
   */
  constructor(
    problem: string,
    path: string = DEFAULT_ROOT,
    javaClassName = "java.io.IOException",
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${problem}`, javaClassName, options);
    this.path = path;
    this.problem = problem;
  }
}

/** The path below the root (`[1].name` of `value[1].name`). */
function below(path: string, root: string): string {
  return path.startsWith(root) ? path.slice(root.length) : path;
}

/**
 * The error `err` seen one level up: its path gets `segment` (`.name`,
 * `[3]`) put right after the root. A `TypeError` from a basic serializer
 * becomes a {@linkcode TypeValueError}, a `ProtocolError` a
 * {@linkcode TypeDecodeError}; anything else is returned unchanged. Meant
 * for `catch (e) { throw errorUnder(e, ".name"); }` in composite
 * descriptors (the error path only: nothing is built when nothing fails).
 *
 * @example
 * ```ts
 * import { errorUnder, TypeValueError } from "@kvstate/queryable-state";
 *
 * const inner = new TypeValueError("expected a bigint", "value[3]");
 * (errorUnder(inner, ".tags") as TypeValueError).path; // => "value.tags[3]"
 * ```
 *
 * @param err What a part threw.
 * @param segment The part's segment: `.field`, `[index]`.
 * @returns The error to throw.
 */
export function errorUnder(err: unknown, segment: string): unknown {
  if (err instanceof TypeValueError) {
    return new TypeValueError(err.problem, DEFAULT_ROOT + segment + below(err.path, DEFAULT_ROOT), {
      cause: err.cause,
    });
  }
  if (err instanceof TypeDecodeError) {
    return new TypeDecodeError(
      err.problem,
      DEFAULT_ROOT + segment + below(err.path, DEFAULT_ROOT),
      err.javaClassName,
      { cause: err.cause },
    );
  }
  if (err instanceof ProtocolError) {
    return new TypeDecodeError(err.message, DEFAULT_ROOT + segment, err.javaClassName, {
      cause: err,
    });
  }
  if (err instanceof TypeError) {
    return new TypeValueError(err.message, DEFAULT_ROOT + segment, { cause: err });
  }
  return err;
}

/**
 * The error `err` with its path rooted at `root` (`key`, `value`,
 * `mapKey`) instead of `value`. A plain `TypeError` or `ProtocolError`
 * (from a basic serializer at the top) gets the root as its path. Anything
 * else is returned unchanged.
 *
 * @example
 * ```ts
 * import { errorAtRoot, TypeValueError } from "@kvstate/queryable-state";
 *
 * const e = new TypeValueError("expected a bigint", "value[1]");
 * (errorAtRoot(e, "key") as TypeValueError).path; // => "key[1]"
 * ```
 *
 * @param err What the walk threw.
 * @param root The root's name.
 * @returns The error to throw.
 */
export function errorAtRoot(err: unknown, root: string): unknown {
  if (root === DEFAULT_ROOT) {
    return err instanceof TypeValueError || err instanceof TypeDecodeError
      ? err
      : errorUnder(err, "");
  }
  if (err instanceof TypeValueError) {
    return new TypeValueError(err.problem, root + below(err.path, DEFAULT_ROOT), {
      cause: err.cause,
    });
  }
  if (err instanceof TypeDecodeError) {
    return new TypeDecodeError(
      err.problem,
      root + below(err.path, DEFAULT_ROOT),
      err.javaClassName,
      {
        cause: err.cause,
      },
    );
  }
  const under = errorUnder(err, "");
  return under === err ? err : errorAtRoot(under, root);
}
