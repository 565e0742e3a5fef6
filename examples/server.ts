/**
 * A state server (Flink's KvStateServer) serving fixture data.
 *
 *   deno run --allow-net=127.0.0.1 --allow-read --allow-write examples/server.ts \
 *     --data fixtures.json [--host 127.0.0.1] [--port 0] [--write-locations locations.json]
 *
 * With --allow FILE it answers only the requests an allow list admits (lines
 * `job JOBID|*  state NAME|*  from CIDR|*`; see src/server/access_rules.ts);
 * others get a BadRequestException naming the refusal.
 *
 * TLS (plaintext by default): --tls-cert FILE --tls-key FILE serve TLS
 * (give the files to --allow-read); --tls-client-ca FILE also requires
 * client certificates from that CA (mutual TLS, through the Node adapter).
 *
 * Without --data it serves the demo data. It prints `listening on HOST:PORT`
 * once ready and exits cleanly on SIGINT/SIGTERM.
 *
 * @module
 */

import { formatAddress, KvStateServer, locationsToJson } from "../mod.ts";
import { type Flags, intFlag, runCli, stringFlag, untilSignal } from "./_cli.ts";
import { servingTransport, TLS_SERVE_FLAGS } from "./_tls.ts";
import { DEMO_FIXTURES, fixtureLocations, parseFixtures, registerFixtures } from "./_fixtures.ts";
import { allowFlag } from "./_allow.ts";

const USAGE = "usage: server.ts [--data FILE] [--host HOST] [--port PORT] " +
  "[--write-locations FILE] [--max-frame-length N] [--allow FILE] " +
  "[--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]";

async function main(flags: Flags): Promise<number> {
  let fixtures;
  try {
    const dataFile = flags.data === undefined ? undefined : stringFlag(flags, "data");
    const doc = dataFile === undefined
      ? DEMO_FIXTURES
      : JSON.parse(await Deno.readTextFile(dataFile));
    fixtures = parseFixtures(doc);
  } catch (e) {
    console.error(`invalid data: ${(e as Error).message}`);
    return 2;
  }
  const allow = await allowFlag(flags);
  const tls = await servingTransport(flags);
  const server = new KvStateServer({
    transport: tls.transport,
    host: stringFlag(flags, "host", "127.0.0.1"),
    port: stringFlag(flags, "port", "0"),
    maxFrameLength: intFlag(flags, "max-frame-length", undefined),
    requestFilter: allow?.filter,
  });
  registerFixtures(server.registry, fixtures);
  let address;
  try {
    address = await server.start();
  } catch (e) {
    console.error((e as Error).message);
    return 1;
  }
  if (flags["write-locations"] !== undefined) {
    const file = stringFlag(flags, "write-locations");
    const doc = locationsToJson(fixtureLocations(fixtures, address));
    await Deno.writeTextFile(file, JSON.stringify(doc, null, 2) + "\n");
  }
  console.log(
    `job ${fixtures.jobId}: ${fixtures.states.map((s) => `${s.name} (${s.kvStateId})`).join(", ")}`,
  );
  if (allow) console.log(allow.summary);
  if (tls.summary) console.log(tls.summary);
  console.log(`listening on ${formatAddress(address)}`);
  const signal = await untilSignal();
  console.log(`${signal}: shutting down`);
  await server.close();
  return 0;
}

if (import.meta.main) {
  await runCli(
    USAGE,
    ["data", "host", "port", "write-locations", "max-frame-length", "allow", ...TLS_SERVE_FLAGS],
    main,
  );
}
