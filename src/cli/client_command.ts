/**
 * The `client` command (CLI glue): queries one key through a client proxy
 * (ours or Flink's own) and prints the value, or the error's Java class and
 * message (exit code 1).
 *
 * @module
 */

import { QueryableStateClient } from "../client/queryable_state_client.ts";
import { QueryableStateError } from "../wire/errors.ts";
import { serializerFor, type TypeSerializer } from "../wire/type_serializers.ts";
import { CliUsageError, type ResolvedFlags } from "./flags.ts";
import { type CliType, cliType, show, toTyped } from "./typed_values.ts";
import { diallingTransport } from "./tls_flags.ts";
import { terminalText } from "./terminal_text.ts";

/** The serializer of a command-line type, for values typed at run time. */
function anySerializer(t: CliType): TypeSerializer<unknown> {
  return serializerFor(t) as TypeSerializer<unknown>;
}

/**
 * Queries one key and prints the value (exit 0), or the error's Java class
 * and message on stderr (exit 1).
 *
 * @param flags The resolved flags.
 * @returns The exit code.
 * @throws {CliUsageError} On flags that do not fit.
 */
export async function clientCommand(flags: ResolvedFlags): Promise<number> {
  let query;
  try {
    const keyType = cliType(flags.requiredString("key-type"), "--key-type");
    const valueType = cliType(flags.requiredString("value-type"), "--value-type");
    const stateKind = flags.requiredString("state-kind");
    if (stateKind !== "value" && stateKind !== "list" && stateKind !== "map") {
      throw new CliUsageError("--state-kind: expected value, list or map");
    }
    query = {
      proxy: flags.requiredString("proxy"),
      job: flags.requiredString("job"),
      state: flags.requiredString("state"),
      key: toTyped(keyType, flags.requiredString("key"), "--key"),
      keyType,
      valueType,
      stateKind,
      mapKeyType: stateKind === "map"
        ? cliType(flags.requiredString("map-key-type"), "--map-key-type")
        : undefined,
      timeoutMs: flags.integer("timeout-ms"),
    } as const;
  } catch (e) {
    throw e instanceof CliUsageError ? e : new CliUsageError((e as Error).message);
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
    console.log(terminalText(show(value)));
    return 0;
  } catch (e) {
    // The text comes from the proxy (or a state server behind it): no control sequences.
    if (e instanceof QueryableStateError) {
      console.error(terminalText(`${e.javaClassName}: ${e.message}`));
    } else console.error(terminalText(`error: ${(e as Error)?.message ?? e}`));
    return 1;
  }
}
