/**
 * A fake state server on raw frames for the tests of what the proxy does with
 * what a state server sends: each request frame is answered with what the
 * test's script makes of it (or not at all).
 *
 * @module
 */

import type { NetAddress, Transport } from "../mod.ts";
import { requestIdOf } from "../src/server/result_frame.ts";
import { FakeServer, type RawPeer } from "./_harness.ts";

/** The request id of a frame (length prefix included). */
export function idOfFrame(frame: Uint8Array): bigint {
  return requestIdOf(frame.subarray(4));
}

/**
 * Answers a fake state server gives to one request frame (length prefix
 * included, `index` counting from 0 over all its connections): a frame to
 * send, or `null` for no answer.
 */
export type UpstreamScript = (request: Uint8Array, index: number) => Uint8Array | null;

/**
 * A fake state server on raw frames: it answers each request with what its
 * script says, or (with `read` false) accepts connections and never reads.
 */
export class ScriptedUpstream {
  readonly #server: FakeServer;
  readonly #script: UpstreamScript;
  readonly #read: boolean;
  readonly #loops: Promise<void>[] = [];
  readonly #accepting: Promise<void>;
  /** Requests received. */
  requests = 0;
  /** Connections accepted. */
  connections = 0;

  private constructor(server: FakeServer, script: UpstreamScript, read: boolean) {
    this.#server = server;
    this.#script = script;
    this.#read = read;
    this.#accepting = this.#accept();
  }

  /**
   * Starts listening.
   *
   * @param transport What to listen on.
   * @param script The answers.
   * @param read Whether to read requests at all (default true).
   * @returns The server.
   */
  static async start(
    transport: Transport,
    script: UpstreamScript,
    read = true,
  ): Promise<ScriptedUpstream> {
    return new ScriptedUpstream(await FakeServer.start(transport), script, read);
  }

  /** Its address. */
  get address(): NetAddress {
    return this.#server.address;
  }

  async #accept(): Promise<void> {
    for (;;) {
      let peer: RawPeer;
      try {
        peer = await this.#server.accept();
      } catch {
        return;
      }
      this.connections++;
      if (this.#read) this.#loops.push(this.#serve(peer));
    }
  }

  async #serve(peer: RawPeer): Promise<void> {
    try {
      for (;;) {
        const f = await peer.frame();
        if (f === null) return;
        const answer = this.#script(f, this.requests++);
        if (answer !== null) await peer.send(answer);
      }
    } catch {
      // closed
    }
  }

  /** Closes the listener and every connection. */
  async close(): Promise<void> {
    await this.#server.close();
    await this.#accepting;
    await Promise.all(this.#loops);
  }
}
