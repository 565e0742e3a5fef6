/**
 * The `server` command (CLI glue): a state server serving fixture data.
 *
 * @module
 */

import { formatAddress, locationsToJson } from "../oracle/locations_file.ts";
import { KvStateServer } from "../server/kv_state_server.ts";
import type { ResolvedFlags } from "./flags.ts";
import { servingTransport } from "./tls_flags.ts";
import { DEMO_FIXTURES, fixtureLocations, parseFixtures, registerFixtures } from "./fixtures.ts";
import { AllowFile } from "./access_file.ts";
import { onHangup, reloadReported, untilSignal } from "./signals.ts";
import type { WritingLogger } from "../observability/logger.ts";
import { MetricsRegistry } from "../observability/registry.ts";
import { MetricsStats } from "../observability/metrics_stats.ts";
import { cliLogger } from "./observe.ts";

/**
 * Runs the server until SIGINT or SIGTERM; SIGHUP reloads `--allow`.
 *
 * @param flags The resolved flags.
 * @returns The exit code.
 * @throws {CliUsageError} On flags that do not fit.
 */
export async function serverCommand(flags: ResolvedFlags): Promise<number> {
  const logger = cliLogger(flags);
  try {
    return await runServer(flags, logger);
  } finally {
    logger.flush();
  }
}

async function runServer(flags: ResolvedFlags, logger: WritingLogger): Promise<number> {
  let fixtures;
  try {
    const dataFile = flags.string("data");
    const doc = dataFile === undefined
      ? DEMO_FIXTURES
      : JSON.parse(await Deno.readTextFile(dataFile));
    fixtures = parseFixtures(doc);
  } catch (e) {
    console.error(`invalid data: ${(e as Error).message}`);
    return 2;
  }
  const allowFile = flags.string("allow");
  const allow = allowFile === undefined ? undefined : await AllowFile.open(allowFile);
  const tls = await servingTransport(flags);
  const server = new KvStateServer({
    transport: tls.transport,
    host: flags.string("host"),
    port: flags.string("port"),
    maxFrameLength: flags.integer("max-frame-length"),
    requestFilter: allow?.filter,
    logger,
    // No HTTP here to serve /metrics from: the registry is for the hooks alone, for now.
    stats: new MetricsStats({ registry: new MetricsRegistry(), role: "server" }),
  });
  registerFixtures(server.registry, fixtures);
  let address;
  try {
    address = await server.start();
  } catch (e) {
    console.error((e as Error).message);
    return 1;
  }
  const writeLocations = flags.string("write-locations");
  if (writeLocations !== undefined) {
    const doc = locationsToJson(fixtureLocations(fixtures, address));
    await Deno.writeTextFile(writeLocations, JSON.stringify(doc, null, 2) + "\n");
  }
  const stopReloads = onHangup(async () => {
    if (allow !== undefined) await reloadReported(allow, "allow", "the previous rules", logger);
  });
  console.log(
    `job ${fixtures.jobId}: ${fixtures.states.map((s) => `${s.name} (${s.kvStateId})`).join(", ")}`,
  );
  if (allow) console.log(allow.summary);
  if (tls.summary) console.log(tls.summary);
  console.log(`listening on ${formatAddress(address)}`);
  const signal = await untilSignal();
  console.log(`${signal}: shutting down`);
  logger.info("shutdown", { signal });
  await stopReloads();
  await server.close();
  return 0;
}
