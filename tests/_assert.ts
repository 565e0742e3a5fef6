/**
 * Minimal assertions for the test suite (the standard library cannot be
 * downloaded on the build machines, so the project carries its own).
 */

export class AssertionError extends Error {
  override name = "AssertionError";
}

function show(v: unknown): string {
  if (v instanceof Uint8Array) {
    return `Uint8Array(${v.length})[${
      Array.from(v.subarray(0, 64), (b) => b.toString(16).padStart(2, "0")).join("")
    }${v.length > 64 ? "…" : ""}]`;
  }
  if (typeof v === "string" && v.length > 300) {
    return JSON.stringify(v.slice(0, 300)) + `… (${v.length} chars)`;
  }
  try {
    return Deno.inspect(v, { depth: 6, colors: false, strAbbreviateSize: 300 });
  } catch {
    return String(v);
  }
}

export function equal(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    if (x.length !== y.length || a.constructor !== b.constructor) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !equal(v, b.get(k))) return false;
    return true;
  }
  if (a instanceof Set && b instanceof Set) {
    if (a.size !== b.size) return false;
    for (const v of a) if (!b.has(v)) return false;
    return true;
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new AssertionError(msg);
}

export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  if (!equal(actual, expected)) {
    throw new AssertionError(
      `${msg ? msg + ": " : ""}values differ\n  actual:   ${show(actual)}\n  expected: ${
        show(expected)
      }`,
    );
  }
}

export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  if (equal(actual, expected)) {
    throw new AssertionError(`${msg ? msg + ": " : ""}values are equal: ${show(actual)}`);
  }
}

export function assertInstanceOf<T>(
  value: unknown,
  // deno-lint-ignore no-explicit-any
  type: abstract new (...args: any[]) => T,
  msg?: string,
): asserts value is T {
  if (!(value instanceof type)) {
    throw new AssertionError(
      `${msg ? msg + ": " : ""}expected instance of ${type.name}, got ${show(value)}`,
    );
  }
}

// deno-lint-ignore no-explicit-any
type Ctor<E> = abstract new (...args: any[]) => E;

export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  type?: Ctor<E>,
  msgIncludes?: string,
): E {
  try {
    fn();
  } catch (e) {
    checkError(e, type, msgIncludes);
    return e as E;
  }
  throw new AssertionError("expected function to throw");
}

export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  type?: Ctor<E>,
  msgIncludes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    checkError(e, type, msgIncludes);
    return e as E;
  }
  throw new AssertionError("expected promise to reject");
}

function checkError(e: unknown, type?: Ctor<Error>, msgIncludes?: string): void {
  if (type && !(e instanceof type)) {
    throw new AssertionError(`expected error of type ${type.name}, got ${show(e)}`);
  }
  if (msgIncludes !== undefined && !(e instanceof Error && e.message.includes(msgIncludes))) {
    throw new AssertionError(
      `expected error message to include ${JSON.stringify(msgIncludes)}, got ${
        JSON.stringify((e as Error)?.message)
      }`,
    );
  }
}
