/**
 * Reading a request body with a size bound.
 *
 * @module
 */

import { concatBytes } from "../wire/bytes.ts";
import { GatewayError } from "./gateway_errors.ts";

/**
 * Reads a request's whole body as text, refusing one over `maxBytes`: a
 * `content-length` over the bound is refused before reading, and a body
 * without one stops being read (and is cancelled) as soon as it passes the
 * bound.
 *
 * @example
 * ```ts
 * import { readBoundedText } from "@kvstate/queryable-state/http";
 *
 * await readBoundedText(new Request("http://x/", { method: "POST", body: "{}" }), 10); // => "{}"
 * await readBoundedText(new Request("http://x/", { method: "POST", body: "x".repeat(11) }), 10)
 *   .catch((e) => e.status); // => 413
 * ```
 *
 * @param request The request.
 * @param maxBytes The largest body accepted, in bytes.
 * @returns The body as UTF-8 text (`""` when there is none).
 * @throws {GatewayError} Status 413, type `"BodyTooLargeError"`, when the
 *   body is larger than `maxBytes`.
 */
export async function readBoundedText(request: Request, maxBytes: number): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return new TextDecoder().decode(concatBytes(chunks));
}

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError(
    413,
    "BodyTooLargeError",
    `The request body is larger than ${maxBytes} bytes`,
  );
}
