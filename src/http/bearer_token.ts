/**
 * Checking a request's bearer token in constant time.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Whether the request carries `authorization: Bearer <token>` with exactly
 * `token`. The comparison takes the same time whatever the position of the
 * first differing byte (it looks at every byte of the longer of the two).
 *
 * @example
 * ```ts
 * import { hasBearerToken } from "@kvstate/queryable-state/http";
 *
 * const req = new Request("http://x/", { headers: { authorization: "Bearer s3cret" } });
 * hasBearerToken(req, "s3cret"); // => true
 * hasBearerToken(req, "s3cre"); // => false
 * hasBearerToken(new Request("http://x/"), "s3cret"); // => false
 * ```
 *
 * @param request The request.
 * @param token The expected token.
 * @returns Whether it matches.
 */
export function hasBearerToken(request: Request, token: string): boolean {
  const header = request.headers.get("authorization");
  if (header === null || header.length < 7 || header.slice(0, 7).toLowerCase() !== "bearer ") {
    return false;
  }
  return constantTimeEqual(encoder.encode(header.slice(7).trim()), encoder.encode(token));
}

/** Byte equality in time that depends only on the lengths. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  const n = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
