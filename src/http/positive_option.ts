/**
 * Reading a bound of the gateway's options.
 *
 * @module
 */

/**
 * A bound's value: `fallback` when not given, else the value, which must
 * be a positive safe integer.
 *
 * @example
 * ```ts
 * import { positiveOption } from "./positive_option.ts";
 *
 * positiveOption(undefined, 64, "maxWatchers"); // => 64
 * positiveOption(8, 64, "maxWatchers"); // => 8
 * ```
 *
 * @param value The option as given.
 * @param fallback Its default.
 * @param name The option's name, for the error.
 * @returns The bound.
 * @throws {RangeError} When the value is not a positive integer.
 */
export function positiveOption(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}
