/**
 * A queryable-state client proxy (Flink's KvStateClientProxy).
 *
 * With no arguments it starts an embedded demo state plane (a state server
 * holding a few demo states, and an in-memory location registry as the
 * oracle) and the proxy on 127.0.0.1:9069 (or the next free port up to 9079):
 *
 *   deno run --allow-net=127.0.0.1 examples/proxy.ts
 *
 * With --locations it serves the locations of a file or URL instead:
 *
 *   deno run --allow-net=127.0.0.1 --allow-read=locations.json examples/proxy.ts --locations locations.json
 *
 * Other flags: --host, --port (a port, a range like 9069-9079, or 0 for any),
 * --max-frame-length, --retries. It prints `listening on HOST:PORT` once
 * ready and exits cleanly on SIGINT/SIGTERM.
 *
 * With --allow FILE the proxy answers only the requests an allow list admits
 * (lines `job JOBID|*  state NAME|*  from CIDR|*`; see
 * src/server/access_rules.ts); others get a BadRequestException naming the
 * refusal. The embedded demo state server is not filtered.
 *
 * TLS, each side on its own (plaintext by default; give the files to
 * --allow-read): --tls-cert FILE --tls-key FILE serve TLS to clients, and
 * --tls-client-ca FILE requires client certificates from that CA (mutual
 * TLS, through the Node adapter). Towards the state servers (with
 * --locations): --upstream-tls-ca FILE trusts that CA, --upstream-tls uses
 * the default roots, --upstream-tls-cert FILE --upstream-tls-key FILE
 * present a client certificate.
 *
 * @module
 */

import {
  formatAddress,
  HttpLocationOracle,
  InMemoryLocationRegistry,
  JobId,
  JobVertexId,
  KvStateClientProxy,
  type KvStateLocationOracle,
  KvStateServer,
  StaticLocationOracle,
} from "../mod.ts";
import { denoTransport } from "../src/transport/deno.ts";
import { type Flags, intFlag, runCli, stringFlag, untilSignal, UsageError } from "./_cli.ts";
import { diallingTransport, servingTransport, TLS_SERVE_FLAGS, tlsDialFlags } from "./_tls.ts";
import { DEMO_FIXTURES, parseFixtures, registerFixtures } from "./_fixtures.ts";
import { allowFlag } from "./_allow.ts";

const USAGE = "usage: proxy.ts [--locations FILE|URL] [--host HOST] [--port PORT|RANGE] " +
  "[--max-frame-length N] [--retries N] [--allow FILE] " +
  "[--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]] " +
  "[--upstream-tls | --upstream-tls-ca FILE] [--upstream-tls-cert FILE --upstream-tls-key FILE]";

async function main(flags: Flags): Promise<number> {
  const host = stringFlag(flags, "host", "127.0.0.1");
  const maxFrameLength = intFlag(flags, "max-frame-length", undefined);
  const retries = intFlag(flags, "retries", 3);
  const allow = await allowFlag(flags);
  const tls = await servingTransport(flags);
  const upstream = await diallingTransport(flags, "upstream-");
  if (upstream.summary && flags.locations === undefined) {
    throw new UsageError(
      "--upstream-tls* need --locations (the demo state server speaks plaintext)",
    );
  }

  const oracles: Array<[JobId, KvStateLocationOracle]> = [];
  let demoServer: KvStateServer | undefined;
  let demoHint = "";
  if (flags.locations !== undefined) {
    const source = stringFlag(flags, "locations");
    try {
      if (/^https?:\/\//.test(source)) {
        // Jobs are not known up front: the oracle answers for every job.
        oracles.push([JobId.DEFAULT, new HttpLocationOracle(source)]);
      } else {
        const oracle = new StaticLocationOracle(JSON.parse(await Deno.readTextFile(source)));
        for (const hex of oracle.jobIds()) oracles.push([JobId.fromHex(hex), oracle]);
      }
    } catch (e) {
      console.error(`cannot use --locations ${source}: ${(e as Error).message}`);
      return 2;
    }
  } else {
    // The demo state plane, in this process.
    const fixtures = parseFixtures(DEMO_FIXTURES);
    demoServer = new KvStateServer({ transport: denoTransport, host: "127.0.0.1", port: 0 });
    const serverAddress = await demoServer.start();
    const registry = new InMemoryLocationRegistry();
    registerFixtures(demoServer.registry, fixtures);
    for (const s of fixtures.states) {
      registry.notifyKvStateRegistered({
        jobId: fixtures.jobId,
        jobVertexId: JobVertexId.random(),
        registrationName: s.name,
        numKeyGroups: s.numKeyGroups,
        start: 0,
        end: s.numKeyGroups - 1,
        kvStateId: s.kvStateId,
        address: serverAddress,
      });
    }
    oracles.push([fixtures.jobId, registry]);
    demoHint = `demo state server on ${formatAddress(serverAddress)}; job ${fixtures.jobId}: ` +
      fixtures.states.map((s) => `${s.name} (${s.stateKind} ${s.keyType} -> ${s.valueType})`)
        .join(", ");
  }

  const proxy = new KvStateClientProxy({
    transport: tls.transport,
    upstreamTransport: upstream.transport,
    host,
    port: flags.port === undefined ? "9069-9079" : stringFlag(flags, "port"),
    maxFrameLength,
    retries,
    requestFilter: allow?.filter,
  });
  for (const [jobId, oracle] of oracles) proxy.updateKvStateLocationOracle(jobId, oracle);
  let address;
  try {
    address = await proxy.start();
  } catch (e) {
    console.error((e as Error).message);
    await demoServer?.close();
    return 1;
  }
  if (demoHint) console.log(demoHint);
  if (allow) console.log(allow.summary);
  if (tls.summary) console.log(tls.summary);
  if (upstream.summary) console.log(upstream.summary);
  console.log(`listening on ${formatAddress(address)}`);
  if (demoServer !== undefined) {
    console.log(
      "query a demo key with:\n  npx -y deno@2.9.6 run --allow-net=127.0.0.1 examples/client.ts " +
        `--proxy ${formatAddress(address)} --job 0102030405060708a1a2a3a4a5a6a7a8 ` +
        "--state word-counts --key-type string --key hello --value-type long",
    );
    if (tls.summary) {
      console.log(
        "  (over TLS: add --tls-ca with the CA of --tls-cert, and --allow-read for it; " +
          "with --tls-client-ca also --tls-cert/--tls-key)",
      );
    }
  }
  const signal = await untilSignal();
  console.log(`${signal}: shutting down`);
  await proxy.close();
  await demoServer?.close();
  return 0;
}

if (import.meta.main) {
  await runCli(USAGE, [
    "locations",
    "host",
    "port",
    "max-frame-length",
    "retries",
    "allow",
    ...TLS_SERVE_FLAGS,
    ...tlsDialFlags("upstream-"),
  ], main);
}
