/**
 * The upstream-mode flags of the CLI, in process: `--upstream-proxies`,
 * `--flink-rest`, `--proxy-port`, `--flink-rest-refresh-ms` from the command
 * line, the environment and a config file; the flags that exclude each
 * other; a repeated `--proxy`; usage errors naming their source.
 */

import { assert, assertEquals, assertRejects, assertThrows } from "../_assert.ts";
import { CLIENT_COMMAND, GATEWAY_COMMAND, PROXY_COMMAND } from "../../src/cli/commands.ts";
import { commandHelp } from "../../src/cli/help.ts";
import { CliUsageError, type FlagSources, resolveFlags } from "../../src/cli/flags.ts";
import { startUpstreamPool, upstreamChoice } from "../../src/cli/upstream_pool.ts";
import { MetricsRegistry } from "../../src/observability/registry.ts";
import { SILENT_LOGGER } from "../../src/observability/logger.ts";
import { MemoryTransport } from "../../src/transport/memory.ts";

const proxyChoice = (sources: FlagSources) =>
  upstreamChoice(resolveFlags(PROXY_COMMAND.flags, sources), "upstream-proxies", ["locations"]);
const gatewayChoice = (sources: FlagSources) =>
  upstreamChoice(resolveFlags(GATEWAY_COMMAND.flags, sources), "proxy");

Deno.test("cli upstream flags: a static list from the flag, the environment or the config file", () => {
  const members = [{ hostname: "tm-1", port: 9070 }, { hostname: "tm-2", port: 9069 }];
  assertEquals(proxyChoice({ args: ["--upstream-proxies", "tm-1:9070, tm-2"] }), {
    kind: "static",
    members,
    source: "--upstream-proxies",
  });
  const env = (name: string) => name === "QS_UPSTREAM_PROXIES" ? "tm-1:9070,tm-2" : undefined;
  assertEquals(proxyChoice({ args: [], getEnv: env }), {
    kind: "static",
    members,
    source: "QS_UPSTREAM_PROXIES",
  });
  const config = () => ({ "upstream-proxies": "tm-1:9070,tm-2:9069" });
  assertEquals(proxyChoice({ args: ["--config", "p.json"], readConfig: config }), {
    kind: "static",
    members,
    source: "p.json: upstream-proxies",
    configKey: { file: "p.json", key: "upstream-proxies" },
  });
  // Neither: the oracle mode (or the demo).
  assertEquals(proxyChoice({ args: [] }), undefined);
  assertEquals(proxyChoice({ args: ["--locations", "l.json"] }), undefined);
});

Deno.test("cli upstream flags: --flink-rest with its port, range and refresh interval", () => {
  assertEquals(proxyChoice({ args: ["--flink-rest", "http://jobmanager:8081"] }), {
    kind: "flink-rest",
    url: "http://jobmanager:8081",
    proxyPort: "9069",
    refreshIntervalMs: 10_000,
  });
  const env = (name: string) =>
    ({ QS_FLINK_REST: "https://jm/prefix", QS_PROXY_PORT: "9069-9075" })[name];
  assertEquals(
    gatewayChoice({ args: ["--flink-rest-refresh-ms", "500"], getEnv: env }),
    {
      kind: "flink-rest",
      url: "https://jm/prefix",
      proxyPort: "9069-9075",
      refreshIntervalMs: 500,
    },
  );
});

Deno.test("cli upstream flags: the gateway's --proxy repeated or as a list; one is no pool", () => {
  const two = [{ hostname: "a", port: 1 }, { hostname: "b", port: 9069 }];
  assertEquals(gatewayChoice({ args: ["--proxy", "a:1", "--proxy", "b"] }), {
    kind: "static",
    members: two,
    source: "--proxy",
  });
  assertEquals(gatewayChoice({ args: ["--proxy=a:1,b"] }), {
    kind: "static",
    members: two,
    source: "--proxy",
  });
  assertEquals(gatewayChoice({ args: ["--proxy", "a:1"] }), {
    kind: "static",
    members: [{ hostname: "a", port: 1 }],
    source: "--proxy",
  });
});

Deno.test("cli upstream flags: usage errors name their source", () => {
  assertThrows(
    () => proxyChoice({ args: ["--locations", "l.json", "--upstream-proxies", "a:1"] }),
    CliUsageError,
    "--locations, --upstream-proxies, --flink-rest exclude each other; given: --locations, " +
      "--upstream-proxies",
  );
  assertThrows(
    () =>
      proxyChoice({
        args: ["--upstream-proxies", "a:1"],
        getEnv: (n) => n === "QS_FLINK_REST" ? "http://jm:8081" : undefined,
      }),
    CliUsageError,
    "given: --upstream-proxies, QS_FLINK_REST",
  );
  assertThrows(
    () => gatewayChoice({ args: ["--proxy", "a:1", "--flink-rest", "http://jm:8081"] }),
    CliUsageError,
    "--proxy, --flink-rest exclude each other",
  );
  assertThrows(
    () => proxyChoice({ args: ["--upstream-proxies", "a:1", "--proxy-port", "9070"] }),
    CliUsageError,
    "--proxy-port: only with --flink-rest",
  );
  assertThrows(
    () => proxyChoice({ args: ["--flink-rest", "jobmanager:8081"] }),
    CliUsageError,
    '--flink-rest: expected an http(s) URL, got "jobmanager:8081"',
  );
  assertThrows(
    () => proxyChoice({ args: ["--flink-rest", "http://jm", "--flink-rest-refresh-ms", "0"] }),
    CliUsageError,
    "--flink-rest-refresh-ms must be positive",
  );
  assertThrows(
    () => proxyChoice({ args: ["--upstream-proxies", "a:1,b:99999"] }),
    CliUsageError,
    "--upstream-proxies: expected",
  );
  // parseProxyAddresses refuses a bare number; the flag's source is named.
  assertThrows(
    () => gatewayChoice({ args: ["--proxy", "9069"] }),
    CliUsageError,
    "--proxy: a port without its host: write host:9069",
  );
  assertThrows(
    () =>
      proxyChoice({ args: [], getEnv: (n) => n === "QS_UPSTREAM_PROXIES" ? "a,9070" : undefined }),
    CliUsageError,
    "QS_UPSTREAM_PROXIES: a port without its host: write host:9070",
  );
});

Deno.test("cli upstream flags: a --proxy-port that is no port or range is a usage error, nothing left open", async () => {
  const choice = proxyChoice({
    args: ["--flink-rest", "http://127.0.0.1:9", "--proxy-port", "9070-9069"],
  })!;
  await assertRejects(
    () =>
      startUpstreamPool(choice, {
        transport: new MemoryTransport(),
        logger: SILENT_LOGGER,
        metrics: new MetricsRegistry(),
        role: "upstream",
        name: "test pool",
      }),
    CliUsageError,
    "--proxy-port: ",
  );
});

Deno.test("cli upstream flags: --help names each flag with its default and variable", () => {
  const proxy = commandHelp("queryable-state proxy", PROXY_COMMAND);
  for (
    const line of [
      "  --upstream-proxies HOST[:PORT],...",
      "      default: none; env: QS_UPSTREAM_PROXIES",
      "  --flink-rest URL",
      "  --proxy-port PORT|RANGE",
      "      default: 9069; env: QS_PROXY_PORT",
      "  --flink-rest-refresh-ms N",
      "      default: 10000; env: QS_FLINK_REST_REFRESH_MS",
    ]
  ) {
    assert(proxy.split("\n").includes(line), line);
  }
  assert(proxy.includes("--locations, --upstream-proxies and --flink-rest exclude each other"));
  const gateway = commandHelp("queryable-state gateway", GATEWAY_COMMAND);
  assert(gateway.includes("  --proxy HOST:PORT[,HOST:PORT...]\n"), gateway);
  assert(gateway.includes("default: none (required unless --flink-rest); env: QS_PROXY"));
  assert(gateway.includes("  --flink-rest URL\n"));
  const client = commandHelp("queryable-state client", CLIENT_COMMAND);
  assert(client.includes("  --proxy HOST:PORT[,HOST:PORT...]\n"), client);
});
