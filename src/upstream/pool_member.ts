/**
 * One member of a proxy pool: its connection (a network client of its own),
 * its health, and its counters.
 *
 * @module
 */

import type { NetworkClient } from "../client/network_client.ts";
import type { NetAddress } from "../transport/types.ts";

/** What {@linkcode ProxyPool.members} tells of one member. */
export interface PoolMemberSnapshot {
  /** The member, as `host:port` (`[v6]:port`). */
  readonly address: string;
  /** Whether requests are sent to it (it answered last, or was never found down). */
  readonly up: boolean;
  /** Removed from the member list: no new requests, those in flight finish. */
  readonly draining: boolean;
  /** Requests sent to it and not yet answered or failed. */
  readonly outstanding: number;
  /** Requests sent to it since it joined (each attempt of a request counts; probes do not). */
  readonly requests: number;
  /**
   * Requests sent to it that ended without an answer from it (connect
   * failure, connection lost, attempt timeout, queue full).
   */
  readonly failures: number;
  /** Requests that failed on it and were sent again to another member. */
  readonly failovers: number;
}

/**
 * @internal One member's state. The pool changes it; the choice policy reads
 * `up` and `outstanding`.
 */
export class PoolMember {
  /** Where it listens. */
  readonly address: NetAddress;
  /** `host:port`, the member's identity in the pool. */
  readonly key: string;
  /** Its own client: one pooled connection to it. */
  readonly client: NetworkClient;
  /** Requests go to it (new members start up). */
  up = true;
  /** Removed from the list; closed once `outstanding` is 0. */
  draining = false;
  outstanding = 0;
  requests = 0;
  failures = 0;
  failovers = 0;
  /** Probes that failed since it went down (the backoff exponent). */
  failedProbes = 0;
  /** When it went down (`performance.now()`), for the log. */
  downSince = 0;
  /** The pending probe's timer, while down and not probing. */
  probeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Counts probes started: a probe's answer counts only if it is the last one. */
  probeSeq = 0;

  /**
   * @param address Where it listens.
   * @param key `host:port`.
   * @param client Its own client.
   */
  constructor(address: NetAddress, key: string, client: NetworkClient) {
    this.address = address;
    this.key = key;
    this.client = client;
  }

  /** Clears the pending probe's timer, if any. */
  clearProbe(): void {
    if (this.probeTimer !== undefined) {
      clearTimeout(this.probeTimer);
      this.probeTimer = undefined;
    }
    this.probeSeq++;
  }

  /** @returns Its counters now. */
  snapshot(): PoolMemberSnapshot {
    return {
      address: this.key,
      up: this.up,
      draining: this.draining,
      outstanding: this.outstanding,
      requests: this.requests,
      failures: this.failures,
      failovers: this.failovers,
    };
  }
}
