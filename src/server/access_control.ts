/**
 * Access control for servers: which requests a server answers, decided per
 * request by job id, state name and the peer's address. Any function will
 * do; `accessFilter` (in `access_rules.ts`) makes one from an allow list,
 * and `parseAccessRules` reads the list's text form.
 *
 * @module
 */

import type { NetAddress } from "../transport/types.ts";
import type { JobId, KvStateId } from "../wire/ids.ts";

/**
 * What a request filter sees of one request. The proxy knows the job and the
 * state name from the request itself; a state server knows the `KvStateID`,
 * and the job and name only when the state was registered with them.
 *
 * @example
 * ```ts
 * import { type AccessRequest, JobId } from "@kvstate/queryable-state";
 *
 * const request: AccessRequest = {
 *   remoteAddress: { hostname: "127.0.0.1", port: 50000 },
 *   jobId: JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8"),
 *   stateName: "word-counts",
 * };
 * request.stateName; // => "word-counts"
 * ```
 */
export interface AccessRequest {
  /** The peer's address (for a connection served by `serve(conn)`, the connection's). */
  readonly remoteAddress: NetAddress;
  /** The job the request is for, when known. */
  readonly jobId?: JobId;
  /** The state's registration name, when known. */
  readonly stateName?: string;
  /** The state instance (state servers only). */
  readonly kvStateId?: KvStateId;
}

/**
 * Decides whether a server answers a request: `true` to serve it, `false` to
 * refuse it with a `BadRequestException` that names the refusal (a Java
 * client reads it; the refusal is counted). May be asynchronous; a filter
 * that throws or rejects refuses the request.
 *
 * @example Only local peers
 * ```ts
 * import type { RequestFilter } from "@kvstate/queryable-state";
 *
 * const localOnly: RequestFilter = (r) => r.remoteAddress.hostname === "127.0.0.1";
 * localOnly({ remoteAddress: { hostname: "10.0.0.1", port: 1 } }); // => false
 * ```
 */
export type RequestFilter = (request: AccessRequest) => boolean | Promise<boolean>;
