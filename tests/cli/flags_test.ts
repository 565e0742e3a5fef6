/**
 * The CLI's flags, pure: command line, environment and config parsing, the
 * precedence flag > environment > config > default, and errors naming
 * their source.
 */
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import {
  CliUsageError,
  envName,
  type FlagSpec,
  parseCommandLine,
  parseConfig,
  parseEnvironment,
  resolveFlags,
} from "../../src/cli/flags.ts";
import { CLIENT_COMMAND, COMMANDS, PROXY_COMMAND } from "../../src/cli/commands.ts";

const SPECS: readonly FlagSpec[] = [
  { name: "host", kind: "string", default: "127.0.0.1", description: "h" },
  { name: "port", kind: "string", default: "9069-9079", description: "p" },
  { name: "retries", kind: "integer", default: 3, description: "r" },
  { name: "max-frame-length", kind: "integer", description: "m" },
  { name: "upstream-tls", kind: "boolean", default: false, description: "t" },
  { name: "locations", kind: "string", description: "l" },
  { name: "proxy", kind: "string", required: true, description: "x" },
  { name: "config", kind: "string", notInConfig: true, description: "c" },
  { name: "help", kind: "boolean", commandLineOnly: true, description: "?" },
];

const values = (m: Map<string, { value: unknown; source: string }>) =>
  Object.fromEntries([...m].map(([k, v]) => [k, [v.value, v.source]]));

Deno.test("cli flags: envName maps --foo-bar to QS_FOO_BAR", () => {
  assertEquals(envName("port"), "QS_PORT");
  assertEquals(envName("max-frame-length"), "QS_MAX_FRAME_LENGTH");
  assertEquals(envName("upstream-tls-ca"), "QS_UPSTREAM_TLS_CA");
});

Deno.test("cli flags: the command line, typed; booleans take no value; the last one wins", () => {
  const m = parseCommandLine(
    ["--host", "0.0.0.0", "--retries=5", "--upstream-tls", "--port", "1", "--port=0"],
    SPECS,
  );
  assertEquals(values(m), {
    host: ["0.0.0.0", "--host"],
    retries: [5, "--retries"],
    "upstream-tls": [true, "--upstream-tls"],
    port: ["0", "--port"],
  });
  assertEquals(values(parseCommandLine(["--upstream-tls=false"], SPECS)), {
    "upstream-tls": [false, "--upstream-tls"],
  });
  // A boolean does not swallow the next argument: it is a stray one.
  assertThrows(
    () => parseCommandLine(["--upstream-tls", "yes"], SPECS),
    CliUsageError,
    'unexpected argument "yes"',
  );
});

Deno.test("cli flags: command line errors name the flag", () => {
  assertThrows(() => parseCommandLine(["--what"], SPECS), CliUsageError, "unknown flag --what");
  assertThrows(() => parseCommandLine(["--what=1"], SPECS), CliUsageError, "unknown flag --what");
  assertThrows(
    () => parseCommandLine(["stray"], SPECS),
    CliUsageError,
    'unexpected argument "stray"',
  );
  assertThrows(() => parseCommandLine(["--host"], SPECS), CliUsageError, "--host needs a value");
  assertThrows(
    () => parseCommandLine(["--host", "--port", "1"], SPECS),
    CliUsageError,
    "--host needs a value",
  );
  assertThrows(
    () => parseCommandLine(["--retries", "-1"], SPECS),
    CliUsageError,
    '--retries must be a non-negative integer, got "-1"',
  );
  assertThrows(
    () => parseCommandLine(["--retries", "2.5"], SPECS),
    CliUsageError,
    "--retries must be a non-negative integer",
  );
  assertThrows(
    () => parseCommandLine(["--upstream-tls=maybe"], SPECS),
    CliUsageError,
    '--upstream-tls must be true or false, got "maybe"',
  );
});

Deno.test("cli flags: the environment, typed; empty is unset; errors name the variable", () => {
  const env: Record<string, string> = {
    QS_HOST: "10.0.0.1",
    QS_RETRIES: "7",
    QS_MAX_FRAME_LENGTH: "1024",
    QS_UPSTREAM_TLS: "1",
    QS_PORT: "",
    QS_HELP: "true",
  };
  const seen: string[] = [];
  const m = parseEnvironment(SPECS, (n) => {
    seen.push(n);
    return env[n];
  });
  assertEquals(values(m), {
    host: ["10.0.0.1", "QS_HOST"],
    retries: [7, "QS_RETRIES"],
    "max-frame-length": [1024, "QS_MAX_FRAME_LENGTH"],
    "upstream-tls": [true, "QS_UPSTREAM_TLS"],
  });
  assert(!seen.includes("QS_HELP"), "--help has no variable");
  assertThrows(
    () => parseEnvironment(SPECS, (n) => n === "QS_RETRIES" ? "many" : undefined),
    CliUsageError,
    'QS_RETRIES must be a non-negative integer, got "many"',
  );
  assertThrows(
    () => parseEnvironment(SPECS, (n) => n === "QS_UPSTREAM_TLS" ? "yes" : undefined),
    CliUsageError,
    "QS_UPSTREAM_TLS must be true or false",
  );
});

Deno.test("cli flags: a config object keyed by flag name; unknown keys are errors naming them", () => {
  const m = parseConfig(
    { port: 9070, retries: "4", "upstream-tls": true, locations: "l.json" },
    SPECS,
    "proxy.json",
  );
  assertEquals(values(m), {
    port: ["9070", "proxy.json: port"],
    retries: [4, "proxy.json: retries"],
    "upstream-tls": [true, "proxy.json: upstream-tls"],
    locations: ["l.json", "proxy.json: locations"],
  });
  assertThrows(
    () => parseConfig({ port: 1, prot: 2 }, SPECS, "p.json"),
    CliUsageError,
    'p.json: unknown key "prot"',
  );
  assertThrows(() => parseConfig({ config: "x" }, SPECS, "p.json"), CliUsageError, '"config"');
  assertThrows(() => parseConfig({ help: true }, SPECS, "p.json"), CliUsageError, '"help"');
  assertThrows(() => parseConfig([1], SPECS, "p.json"), CliUsageError, "expected a JSON object");
  assertThrows(() => parseConfig(null, SPECS, "p.json"), CliUsageError, "expected a JSON object");
  assertThrows(
    () => parseConfig({ "upstream-tls": "true" }, SPECS, "p.json"),
    CliUsageError,
    "p.json: upstream-tls must be true or false",
  );
  assertThrows(
    () => parseConfig({ retries: -2 }, SPECS, "p.json"),
    CliUsageError,
    "p.json: retries must be a non-negative integer",
  );
  assertThrows(
    () => parseConfig({ host: null }, SPECS, "p.json"),
    CliUsageError,
    "p.json: host must be a string",
  );
});

Deno.test("cli flags: precedence is flag > environment > config > default", () => {
  const env: Record<string, string> = { QS_HOST: "env-host", QS_PORT: "2", QS_CONFIG: "c.json" };
  const read: string[] = [];
  const flags = resolveFlags(SPECS, {
    args: ["--host", "flag-host"],
    getEnv: (n) => env[n],
    readConfig: (file) => {
      read.push(file);
      return { host: "config-host", port: "3", retries: 9, locations: "config.json" };
    },
  });
  assertEquals(read, ["c.json"], "QS_CONFIG names the config file");
  assertEquals([flags.string("host"), flags.source("host")], ["flag-host", "--host"]);
  assertEquals([flags.string("port"), flags.source("port")], ["2", "QS_PORT"]);
  assertEquals([flags.integer("retries"), flags.source("retries")], [9, "c.json: retries"]);
  assertEquals(flags.string("locations"), "config.json");
  assertEquals([flags.boolean("upstream-tls"), flags.source("upstream-tls")], [false, "default"]);
  assertEquals(flags.has("upstream-tls"), false);
  assertEquals(flags.integer("max-frame-length"), undefined);
  // --config on the command line beats QS_CONFIG.
  resolveFlags(SPECS, {
    args: ["--config", "flag.json"],
    getEnv: (n) => env[n],
    readConfig: (file) => {
      read.push(file);
      return {};
    },
  });
  assertEquals(read, ["c.json", "flag.json"]);
  // Without any source, the defaults.
  const bare = resolveFlags(SPECS, { args: [] });
  assertEquals([bare.string("host"), bare.string("port"), bare.integer("retries")], [
    "127.0.0.1",
    "9069-9079",
    3,
  ]);
  assertThrows(() => bare.requiredString("proxy"), CliUsageError, "--proxy is required");
  assertThrows(() => bare.string("proxy"), CliUsageError, "--proxy is required");
  assertThrows(() => bare.string("nope"), TypeError, "no flag --nope");
});

Deno.test("cli flags: a bad value in any source is an error naming it, even when overridden", () => {
  assertThrows(
    () =>
      resolveFlags(SPECS, {
        args: ["--retries", "1"],
        getEnv: (n) => n === "QS_RETRIES" ? "x" : undefined,
      }),
    CliUsageError,
    "QS_RETRIES",
  );
  assertThrows(
    () =>
      resolveFlags(SPECS, {
        args: ["--config", "c.json"],
        readConfig: () => ({ bogus: 1 }),
      }),
    CliUsageError,
    'c.json: unknown key "bogus"',
  );
});

Deno.test("cli flags: every command's table is well formed", () => {
  for (const command of COMMANDS.values()) {
    const names = command.flags.map((f) => f.name);
    assertEquals(new Set(names).size, names.length, `${command.name}: duplicate flags`);
    for (const f of command.flags) {
      assert(/^[a-z][a-z0-9-]*$/.test(f.name), f.name);
      assert(f.description.length > 0, f.name);
      if (f.default !== undefined) {
        const t = typeof f.default;
        assertEquals(
          t === "number" ? "integer" : t,
          f.kind,
          `${command.name} --${f.name}: the default's type`,
        );
      }
      if (!f.commandLineOnly && !f.notInConfig) {
        // Every flag can be written in a config file and read back.
        const value = f.kind === "boolean" ? true : f.kind === "integer" ? 1 : "x";
        assertEquals(
          parseConfig({ [f.name]: value }, command.flags, "c.json").get(f.name)?.value,
          f.kind === "string" ? "x" : value,
        );
      }
      // ... and given on the command line.
      const arg = f.kind === "boolean" ? [`--${f.name}`] : [`--${f.name}`, "1"];
      assert(parseCommandLine(arg, command.flags).has(f.name));
    }
    assert(names.includes("config") && names.includes("help") && names.includes("version"));
  }
  // The flags the examples had before the move are all still there (besides the HTTP and log ones).
  assertEquals(
    PROXY_COMMAND.flags.map((f) => f.name).filter((n) =>
      ![
        "config",
        "help",
        "version",
        "http",
        "cors-origin",
        "http-token",
        "deadline-ms",
        "log-level",
        "log-format",
        // Upstream mode (issue 14).
        "upstream-proxies",
        "flink-rest",
        "proxy-port",
        "flink-rest-refresh-ms",
      ].includes(n)
    ),
    [
      "locations",
      "host",
      "port",
      "max-frame-length",
      "retries",
      "allow",
      "tls-cert",
      "tls-key",
      "tls-client-ca",
      "upstream-tls",
      "upstream-tls-ca",
      "upstream-tls-cert",
      "upstream-tls-key",
    ],
  );
  // The log flags: on every long-running command (not the one-shot client), with their defaults.
  for (const command of COMMANDS.values()) {
    const log = command.flags.filter((f) => f.name.startsWith("log-"));
    assertEquals(
      log.map((f) => [f.name, f.default]),
      command.name === "client" ? [] : [["log-level", "info"], ["log-format", "text"]],
      command.name,
    );
  }
  assertEquals(CLIENT_COMMAND.flags.filter((f) => f.required).map((f) => f.name), [
    "proxy",
    "job",
    "state",
    "key-type",
    "key",
    "value-type",
  ]);
});
