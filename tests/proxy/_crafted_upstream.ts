/**
 * A state server that answers every request with crafted bytes: the test
 * decides the whole response frame per request (from its request id). It
 * counts the requests it answered.
 */
import type { NetAddress, Transport } from "../../mod.ts";
import { FakeServer, type RawPeer } from "../_harness.ts";

/** Builds the response frame (length prefix included) for a request id. */
export type CraftAnswer = (requestId: bigint) => Uint8Array;

export class CraftedUpstream {
  readonly #fake: FakeServer;
  readonly #loops: Promise<void>[] = [];
  #acceptLoop: Promise<void> | undefined;
  answer: CraftAnswer;
  requests = 0;

  private constructor(fake: FakeServer, answer: CraftAnswer) {
    this.#fake = fake;
    this.answer = answer;
  }

  static async start(transport: Transport, answer: CraftAnswer): Promise<CraftedUpstream> {
    const u = new CraftedUpstream(await FakeServer.start(transport), answer);
    u.#acceptLoop = u.#accept();
    return u;
  }

  get address(): NetAddress {
    return this.#fake.address;
  }

  async #accept(): Promise<void> {
    for (;;) {
      let peer: RawPeer;
      try {
        peer = await this.#fake.accept();
      } catch {
        return;
      }
      this.#loops.push(this.#serve(peer));
    }
  }

  async #serve(peer: RawPeer): Promise<void> {
    for (;;) {
      let frame: Uint8Array | null;
      try {
        frame = await peer.frame();
      } catch {
        return;
      }
      if (frame === null) return;
      const id = new DataView(frame.buffer, frame.byteOffset).getBigInt64(12);
      this.requests++;
      try {
        await peer.send(this.answer(id));
      } catch {
        return;
      }
    }
  }

  async close(): Promise<void> {
    await this.#fake.close();
    await this.#acceptLoop;
    await Promise.all(this.#loops);
  }
}
