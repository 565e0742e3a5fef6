/**
 * The CLI's commands and their flags, as data: the one place a flag is
 * declared (its type, default, environment variable and help). To add a
 * flag, add a {@linkcode FlagSpec} to a command's list and read it in the
 * command with `flags.string(name)` / `integer` / `boolean`.
 *
 * @module
 */

import { DEFAULT_MAX_FRAME_LENGTH } from "../streams/frame_decoder_stream.ts";
import type { FlagSpec } from "./flags.ts";

/** The flags every command takes. */
export const COMMON_FLAGS: readonly FlagSpec[] = [
  {
    name: "config",
    kind: "string",
    placeholder: "FILE",
    notInConfig: true,
    defaultText: "none",
    description: "read flags from a JSON object keyed by flag name",
  },
  {
    name: "help",
    kind: "boolean",
    commandLineOnly: true,
    description: "print this help and exit",
  },
  {
    name: "version",
    kind: "boolean",
    commandLineOnly: true,
    description: "print the version and exit",
  },
];

/** The `--host HOST` flag of the proxy and the server. */
const LISTEN_HOST: FlagSpec = {
  name: "host",
  kind: "string",
  placeholder: "HOST",
  default: "127.0.0.1",
  description: "the address to listen on",
};

/** The `--allow FILE` flag of the proxy and the server. */
const ALLOW: FlagSpec = {
  name: "allow",
  kind: "string",
  placeholder: "FILE",
  defaultText: "none (every request is served)",
  description:
    "serve only what an allow list admits (lines `job ID|* state NAME|* from CIDR|*`); " +
    "reloaded on SIGHUP",
};

/** The serving TLS flags of the proxy and the server. */
const TLS_SERVE: readonly FlagSpec[] = [
  {
    name: "tls-cert",
    kind: "string",
    placeholder: "FILE",
    defaultText: "none (plaintext)",
    description: "serve TLS with this PEM certificate (with --tls-key)",
  },
  {
    name: "tls-key",
    kind: "string",
    placeholder: "FILE",
    defaultText: "none",
    description: "the PEM private key of --tls-cert",
  },
  {
    name: "tls-client-ca",
    kind: "string",
    placeholder: "FILE",
    defaultText: "none",
    description: "require client certificates from this CA (mutual TLS, through the Node adapter)",
  },
];

/**
 * The dialling TLS flags, under a prefix (`""` for the client, `"upstream-"`
 * for the proxy's connections to the state servers).
 *
 * @param prefix The prefix.
 * @param towards What is dialled, for the help.
 * @returns The flags.
 */
export function tlsDialFlags(prefix: string, towards: string): FlagSpec[] {
  return [
    {
      name: `${prefix}tls`,
      kind: "boolean",
      default: false,
      description: `use TLS towards ${towards}, trusting the default roots`,
    },
    {
      name: `${prefix}tls-ca`,
      kind: "string",
      placeholder: "FILE",
      defaultText: "none (plaintext)",
      description: `use TLS towards ${towards}, trusting this CA as well`,
    },
    {
      name: `${prefix}tls-cert`,
      kind: "string",
      placeholder: "FILE",
      defaultText: "none",
      description: `present this client certificate to ${towards} (with --${prefix}tls-key)`,
    },
    {
      name: `${prefix}tls-key`,
      kind: "string",
      placeholder: "FILE",
      defaultText: "none",
      description: `the PEM private key of --${prefix}tls-cert`,
    },
  ];
}

/** The HTTP gateway's flags (beside `--http`) of the proxy and the gateway. */
const HTTP_GATEWAY: readonly FlagSpec[] = [
  {
    name: "cors-origin",
    kind: "string",
    placeholder: "ORIGIN[,ORIGIN]",
    defaultText: "none (no CORS headers)",
    description: "let pages from these origins (or *) call the HTTP gateway from a browser",
  },
  {
    name: "http-token",
    kind: "string",
    placeholder: "TOKEN",
    defaultText: "none (open)",
    description: "require `Authorization: Bearer TOKEN` on the HTTP gateway but /healthz and " +
      "/readyz (better given as QS_HTTP_TOKEN than on the command line)",
  },
  {
    name: "deadline-ms",
    kind: "integer",
    placeholder: "N",
    default: 10_000,
    description: "the time an HTTP request may take, in ms; past it, 504",
  },
];

/** The logging flags of the proxy, the server and the gateway. */
const LOGGING: readonly FlagSpec[] = [
  {
    name: "log-level",
    kind: "string",
    placeholder: "debug|info|warn|error|off",
    default: "info",
    description: "the least level of the structured events logged to stderr; `off` for none",
  },
  {
    name: "log-format",
    kind: "string",
    placeholder: "text|json",
    default: "text",
    description: "one line per event on stderr: `text` (time LEVEL event key=value ...) or `json`",
  },
];

/**
 * The Flink REST discovery flags of the proxy and the gateway (issue 14):
 * `--flink-rest`, `--proxy-port`, `--flink-rest-refresh-ms`.
 *
 * @param instead What `--flink-rest` replaces, for the help.
 * @returns The flags.
 */
function flinkRestFlags(instead: string): FlagSpec[] {
  return [
    {
      name: "flink-rest",
      kind: "string",
      placeholder: "URL",
      defaultText: "none",
      description: "upstream mode: the members are the Queryable State proxies of the " +
        "TaskManagers that this Flink REST API lists (GET URL/taskmanagers, e.g. " +
        "http://jobmanager:8081), refreshed periodically and on SIGHUP; the last good list is " +
        `kept while the REST API fails; instead of ${instead}`,
    },
    {
      name: "proxy-port",
      kind: "string",
      placeholder: "PORT|RANGE",
      default: "9069",
      description: "with --flink-rest: the TaskManagers' proxy port (Flink's " +
        "queryable-state.proxy.ports); with a range (9069-9075), every port of it that accepts " +
        "a connection on a TaskManager's host is a member",
    },
    {
      name: "flink-rest-refresh-ms",
      kind: "integer",
      placeholder: "N",
      default: 10_000,
      description: "with --flink-rest: the time between two refreshes of the member list, in ms",
    },
  ];
}

/** A command: its name, what it does, its synopsis and its flags. */
export interface CommandSpec {
  /** The name, e.g. `proxy`. */
  readonly name: string;
  /** One line on what it does. */
  readonly summary: string;
  /** The flags part of the usage line. */
  readonly synopsis: string;
  /** Its flags, the common ones included. */
  readonly flags: readonly FlagSpec[];
  /** Notes printed after the flags. */
  readonly notes: readonly string[];
}

/** The `proxy` command: a queryable-state client proxy. */
export const PROXY_COMMAND: CommandSpec = {
  name: "proxy",
  summary: "a queryable-state client proxy (Flink's KvStateClientProxy); " +
    "with no --locations, an embedded demo state plane behind it",
  synopsis: "[--locations FILE|URL] [--upstream-proxies HOST:PORT,... | " +
    "--flink-rest URL [--proxy-port PORT|RANGE] [--flink-rest-refresh-ms N]] " +
    "[--host HOST] [--port PORT|RANGE] " +
    "[--max-frame-length N] [--retries N] [--allow FILE] " +
    "[--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]] " +
    "[--upstream-tls | --upstream-tls-ca FILE] [--upstream-tls-cert FILE --upstream-tls-key FILE] " +
    "[--http HOST:PORT|off] [--cors-origin ORIGIN] [--http-token TOKEN] [--deadline-ms N] " +
    "[--log-level LEVEL] [--log-format text|json] [--config FILE]",
  flags: [
    {
      name: "locations",
      kind: "string",
      placeholder: "FILE|URL",
      defaultText: "none (an embedded demo state plane)",
      description: "where the states live: a locations file (reloaded on SIGHUP) or an HTTP URL",
    },
    {
      name: "upstream-proxies",
      kind: "string",
      placeholder: "HOST[:PORT],...",
      defaultText: "none",
      description: "upstream mode: forward every request whole to a pool of these Queryable " +
        "State proxies (Flink's, one per TaskManager, or ours; `host` alone is port 9069), to " +
        "the one with the fewest requests in flight, failing over to another when one does not " +
        "answer; instead of --locations",
    },
    ...flinkRestFlags("--locations"),
    LISTEN_HOST,
    {
      name: "port",
      kind: "string",
      placeholder: "PORT|RANGE",
      default: "9069-9079",
      description: "a port, a range (the first free one), or 0 for any",
    },
    {
      name: "max-frame-length",
      kind: "integer",
      placeholder: "N",
      default: DEFAULT_MAX_FRAME_LENGTH,
      description: "the largest frame accepted, in bytes",
    },
    {
      name: "retries",
      kind: "integer",
      placeholder: "N",
      default: 3,
      description: "re-lookups of a location after an upstream failure",
    },
    {
      name: "http",
      kind: "string",
      placeholder: "HOST:PORT",
      defaultText: "none; with the demo (no --locations) 127.0.0.1:0",
      description: "serve the HTTP/JSON gateway on this address (port 0 for any) beside the " +
        "binary protocol; `off` for none",
    },
    ...HTTP_GATEWAY,
    ALLOW,
    ...TLS_SERVE,
    ...tlsDialFlags(
      "upstream-",
      "the state servers or the upstream proxies (needs --locations, --upstream-proxies or " +
        "--flink-rest)",
    ),
    ...LOGGING,
    ...COMMON_FLAGS,
  ],
  notes: [
    "Prints `listening on HOST:PORT` once ready; SIGINT or SIGTERM stops it cleanly.",
    "SIGHUP reloads the --locations file and the --allow file; a file that does not read or parse " +
    "is reported on stderr and the previous one kept.",
    "--locations, --upstream-proxies and --flink-rest exclude each other. In upstream mode " +
    "(--upstream-proxies, --flink-rest) a request goes to another member when the one it went " +
    "to does not answer (connect failure, connection closed, 10 s without an answer), up to 3 " +
    "attempts within the 30 s deadline; an answer (a value, an unknown key, any failure the " +
    "member sends) is never sent again. A member that fails is probed back with backoff " +
    "(250 ms doubling to 10 s). SIGHUP refreshes the --flink-rest member list at once, and " +
    "reads an --upstream-proxies list given in the --config file again (a list given by the " +
    "flag or its variable needs a restart).",
    "With --http (or the demo) it prints `http listening on HOST:PORT`; the gateway queries this " +
    "proxy over 127.0.0.1, so --allow rules see it `from 127.0.0.1`. Not with --tls-cert.",
    "GET /metrics on the HTTP gateway serves the process's metrics (Prometheus text format).",
  ],
};

/** The `server` command: a state server with fixture data. */
export const SERVER_COMMAND: CommandSpec = {
  name: "server",
  summary: "a state server (Flink's KvStateServer) serving fixture data",
  synopsis: "[--data FILE] [--host HOST] [--port PORT] " +
    "[--write-locations FILE] [--max-frame-length N] [--allow FILE] " +
    "[--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]] " +
    "[--log-level LEVEL] [--log-format text|json] [--config FILE]",
  flags: [
    {
      name: "data",
      kind: "string",
      placeholder: "FILE",
      defaultText: "none (the demo data)",
      description: "the fixture data to serve (JSON)",
    },
    LISTEN_HOST,
    {
      name: "port",
      kind: "string",
      placeholder: "PORT|RANGE",
      default: "0",
      description: "a port, a range (the first free one), or 0 for any",
    },
    {
      name: "write-locations",
      kind: "string",
      placeholder: "FILE",
      defaultText: "none",
      description: "write the locations of the states served here, for `proxy --locations`",
    },
    {
      name: "max-frame-length",
      kind: "integer",
      placeholder: "N",
      default: DEFAULT_MAX_FRAME_LENGTH,
      description: "the largest frame accepted, in bytes",
    },
    ALLOW,
    ...TLS_SERVE,
    ...LOGGING,
    ...COMMON_FLAGS,
  ],
  notes: [
    "Prints `listening on HOST:PORT` once ready; SIGINT or SIGTERM stops it cleanly.",
    "SIGHUP reloads the --allow file; a file that does not read or parse is reported on stderr " +
    "and the previous one kept.",
  ],
};

/** The `client` command: one query through a proxy. */
export const CLIENT_COMMAND: CommandSpec = {
  name: "client",
  summary: "queries one key through a client proxy (ours or Flink's) and prints the value",
  synopsis: "--proxy HOST:PORT --job HEX --state NAME --key-type T --key K [--key-hash N] " +
    "--value-type T [--state-kind value|list|map] [--map-key-type T] [--timeout-ms N] " +
    "[--tls | --tls-ca FILE] [--tls-cert FILE --tls-key FILE] [--config FILE]",
  flags: [
    {
      name: "proxy",
      kind: "string",
      placeholder: "HOST:PORT[,HOST:PORT...]",
      required: true,
      description: "the client proxy, or several separated by commas (`host` alone is port " +
        "9069): the query goes to another one when one does not answer",
    },
    {
      name: "job",
      kind: "string",
      placeholder: "HEX",
      required: true,
      description: "the job id (32 hex characters)",
    },
    {
      name: "state",
      kind: "string",
      placeholder: "NAME",
      required: true,
      description: "the queryable state name",
    },
    {
      name: "key-type",
      kind: "string",
      placeholder: "T",
      required: true,
      description: "the key type, in the type syntax: string, int, long, double, boolean, " +
        "bytes (hex), float, short, byte, char, decimal, biginteger, date, timestamp, instant, " +
        "localdate, localtime, localdatetime, or tuple<T,…>, pojo<name:T,…>, row<T,…>, " +
        "nullable<T>, enum<A,…>, array<T>, list<T>, map<K,V>, either<L,R>",
    },
    {
      name: "key",
      kind: "string",
      placeholder: "K",
      required: true,
      description: "the key: its text, or JSON for a tuple, pojo, row, nullable, array, list, " +
        "map or either key (--key '[\"acme\",1001]')",
    },
    {
      name: "key-hash",
      kind: "string",
      placeholder: "N",
      defaultText: "computed (required for a pojo key)",
      description: "the key's Java hashCode(), an int32: a POJO's is user code (--key-hash=-5 " +
        "for a negative one)",
    },
    {
      name: "value-type",
      kind: "string",
      placeholder: "T",
      required: true,
      description: "the value (element) type, in the type syntax (as --key-type)",
    },
    {
      name: "state-kind",
      kind: "string",
      placeholder: "value|list|map",
      default: "value",
      description: "the kind of state",
    },
    {
      name: "map-key-type",
      kind: "string",
      placeholder: "T",
      defaultText: "none (required with --state-kind map)",
      description: "the map key type, in the type syntax",
    },
    {
      name: "timeout-ms",
      kind: "integer",
      placeholder: "N",
      default: 10_000,
      description: "how long the query may take, in ms",
    },
    ...tlsDialFlags("", "the proxy"),
    ...COMMON_FLAGS,
  ],
  notes: [
    "Prints the value as JSON (longs as digits, bytes as hex); a value of another type than " +
    "string, int, long, double, boolean or bytes prints in the HTTP gateway's JSON form (a " +
    "tuple as an array, a POJO as an object, longs in them as strings, bytes as base64). On a " +
    "failure, the Java class and message on stderr and exit code 1.",
  ],
};

/** The `gateway` command: the HTTP/JSON gateway in front of a Queryable State proxy. */
export const GATEWAY_COMMAND: CommandSpec = {
  name: "gateway",
  summary: "the HTTP/JSON gateway alone, in front of any queryable-state client proxy " +
    "(ours or a Flink TaskManager's)",
  synopsis: "--proxy HOST:PORT[,HOST:PORT...] [--proxy ...] | --flink-rest URL " +
    "[--proxy-port PORT|RANGE] [--flink-rest-refresh-ms N]; [--http HOST:PORT] " +
    "[--cors-origin ORIGIN] [--http-token TOKEN] " +
    "[--deadline-ms N] [--tls | --tls-ca FILE] [--tls-cert FILE --tls-key FILE] " +
    "[--log-level LEVEL] [--log-format text|json] [--config FILE]",
  flags: [
    {
      name: "proxy",
      kind: "string",
      placeholder: "HOST:PORT[,HOST:PORT...]",
      defaultText: "none (required unless --flink-rest)",
      repeatable: true,
      description: "the client proxy (Flink's listens on 9069 by default; `host` alone is port " +
        "9069), or several (repeated, or separated by commas): then a pool, failing over to " +
        "another when one does not answer",
    },
    ...flinkRestFlags("--proxy"),
    {
      name: "http",
      kind: "string",
      placeholder: "HOST:PORT",
      default: "127.0.0.1:8080",
      description: "serve the HTTP/JSON gateway on this address (port 0 for any)",
    },
    ...HTTP_GATEWAY,
    ...tlsDialFlags("", "the proxy"),
    ...LOGGING,
    ...COMMON_FLAGS,
  ],
  notes: [
    "Prints `http listening on HOST:PORT` once ready; SIGINT or SIGTERM stops it cleanly.",
    "Routes: GET /v1/jobs/{jobId}/states/{stateName}?key=K&keyType=T&valueType=T" +
    "[&stateKind=value|list|map][&mapKeyType=T][&keyHash=N], POST /v1/query, GET /healthz, " +
    "GET /readyz (200 while the proxy accepts connections; with a pool, while a member is up), " +
    "GET /openapi.json, GET /metrics (Prometheus text format).",
    "SIGHUP refreshes the --flink-rest member list at once, and reads several --proxy values " +
    "given in the --config file again (given by the flag or its variable: a restart).",
  ],
};

/** Every command, by name. */
export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map(
  [PROXY_COMMAND, SERVER_COMMAND, CLIENT_COMMAND, GATEWAY_COMMAND].map((c) => [c.name, c]),
);
