/**
 * A NetworkClient in front of a FakeServer for one test: both are closed
 * when the test's body ends, whether it passed or threw.
 */

import { NetworkClient, type Transport } from "../../mod.ts";
import type { NetworkClientOptions } from "../../src/client/network_client.ts";
import { FakeServer } from "../_harness.ts";

/**
 * Starts a FakeServer on `serverTransport` and a NetworkClient with
 * `options`, runs `body`, then closes the client and the server. Answers
 * the (closed) client, for the assertions that follow its close.
 */
export async function withClient(
  serverTransport: Transport,
  options: NetworkClientOptions,
  body: (client: NetworkClient, fake: FakeServer) => Promise<void>,
): Promise<NetworkClient> {
  const fake = await FakeServer.start(serverTransport);
  const client = new NetworkClient(options);
  try {
    await body(client, fake);
  } finally {
    await client.close();
    await fake.close();
  }
  return client;
}
