/** Registers the shared conformance cases as Deno tests for one transport. */

import type { Transport } from "../../src/transport/types.ts";
import { directCases, socketCases, transportCases } from "./_cases.ts";

export function registerTransportCases(label: string, transport: Transport, socket = true): void {
  for (const c of socket ? [...transportCases, ...socketCases, ...directCases] : transportCases) {
    Deno.test(`${label} transport: ${c.name}`, () => c.run(transport));
  }
}
