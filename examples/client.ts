/**
 * Queries one key through a client proxy (ours or Flink's own) and prints the
 * value, or the error's Java class and message (exit code 1).
 *
 *   deno run --allow-net=127.0.0.1 examples/client.ts --proxy 127.0.0.1:9069 \
 *     --job 0102030405060708a1a2a3a4a5a6a7a8 --state word-counts \
 *     --key-type string --key hello --value-type long [--state-kind value|list|map] \
 *     [--map-key-type T] [--timeout-ms 5000]
 *
 * Types: string, int, long, double, boolean, bytes (hex).
 *
 * TLS (plaintext by default; give the files to --allow-read): --tls-ca FILE
 * trusts that CA (in addition to Deno's default roots), --tls alone uses the
 * default roots, --tls-cert FILE --tls-key FILE present a client
 * certificate (for a proxy that requires one).
 *
 * @module
 */

import {
  QueryableStateClient,
  QueryableStateError,
  serializerFor,
  type TypeSerializer,
} from "../mod.ts";
import {
  type CliType,
  cliType,
  type Flags,
  intFlag,
  runCli,
  show,
  stringFlag,
  toTyped,
  UsageError,
} from "./_cli.ts";
import { diallingTransport, tlsDialFlags } from "./_tls.ts";

const USAGE = "usage: client.ts --proxy HOST:PORT --job HEX --state NAME --key-type T --key K " +
  "--value-type T [--state-kind value|list|map] [--map-key-type T] [--timeout-ms N] " +
  "[--tls | --tls-ca FILE] [--tls-cert FILE --tls-key FILE]";

/** The serializer of a command-line type, for values typed at run time. */
function anySerializer(t: CliType): TypeSerializer<unknown> {
  return serializerFor(t) as TypeSerializer<unknown>;
}

async function main(flags: Flags): Promise<number> {
  let query;
  try {
    const keyType = cliType(stringFlag(flags, "key-type"), "--key-type");
    const valueType = cliType(stringFlag(flags, "value-type"), "--value-type");
    const stateKind = stringFlag(flags, "state-kind", "value");
    if (stateKind !== "value" && stateKind !== "list" && stateKind !== "map") {
      throw new UsageError("--state-kind: expected value, list or map");
    }
    query = {
      proxy: stringFlag(flags, "proxy"),
      job: stringFlag(flags, "job"),
      state: stringFlag(flags, "state"),
      key: toTyped(keyType, stringFlag(flags, "key"), "--key"),
      keyType,
      valueType,
      stateKind,
      mapKeyType: stateKind === "map"
        ? cliType(stringFlag(flags, "map-key-type"), "--map-key-type")
        : undefined,
      timeoutMs: intFlag(flags, "timeout-ms", 10_000),
    } as const;
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError((e as Error).message);
  }

  const { transport } = await diallingTransport(flags);
  await using client = new QueryableStateClient({ transport, proxy: query.proxy });
  try {
    const common = { keyType: anySerializer(query.keyType), timeoutMs: query.timeoutMs };
    let value: unknown;
    if (query.stateKind === "list") {
      value = await client.getKvState(query.job, query.state, query.key, {
        ...common,
        valueType: anySerializer(query.valueType),
        stateKind: "list",
      });
    } else if (query.stateKind === "map") {
      value = await client.getKvState(query.job, query.state, query.key, {
        ...common,
        mapKeyType: anySerializer(query.mapKeyType!),
        valueType: anySerializer(query.valueType),
        stateKind: "map",
      });
    } else {
      value = await client.getKvState(query.job, query.state, query.key, {
        ...common,
        valueType: anySerializer(query.valueType),
      });
    }
    console.log(show(value));
    return 0;
  } catch (e) {
    if (e instanceof QueryableStateError) console.error(`${e.javaClassName}: ${e.message}`);
    else console.error(`error: ${(e as Error)?.message ?? e}`);
    return 1;
  }
}

if (import.meta.main) {
  await runCli(USAGE, [
    "proxy",
    "job",
    "state",
    "key-type",
    "key",
    "value-type",
    "state-kind",
    "map-key-type",
    "timeout-ms",
    ...tlsDialFlags(""),
  ], main);
}
