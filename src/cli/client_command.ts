/**
 * The `client` command (CLI glue): queries one key through a client proxy
 * (ours or Flink's own) and prints the value, or the error's Java class and
 * message (exit code 1).
 *
 * @module
 */

import { TypeValueError } from "../types/type_errors.ts";
import { QueryableStateClient } from "../client/queryable_state_client.ts";
import { QueryableStateError } from "../wire/errors.ts";
import { withKeyHash } from "../http/key_hash.ts";
import { CliUsageError, type ResolvedFlags } from "./flags.ts";
import { cliTypeOf, showState, typedValue } from "./typed_values.ts";
import { diallingTransport } from "./tls_flags.ts";
import { terminalText } from "./terminal_text.ts";
import { parseProxyAddresses } from "../upstream/proxy_addresses.ts";
import type { NetAddress } from "../transport/types.ts";

/** `--proxy` parsed: a bad address (`a:99999`, a bare `9069`) is a usage error naming the flag. */
function proxiesOf(flags: ResolvedFlags): NetAddress[] {
  try {
    return parseProxyAddresses(flags.requiredString("proxy"));
  } catch (e) {
    if (e instanceof CliUsageError) throw e;
    throw new CliUsageError(`${flags.source("proxy")}: ${(e as Error).message}`);
  }
}

/** `--key-hash`: an int32, or `undefined` when not given. */
function keyHashOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\s*-?\d{1,11}\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) {
    throw new CliUsageError(
      `--key-hash: expected an int32 (the key's Java hashCode()), got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

/**
 * Queries one key and prints the value (exit 0), or the error's Java class
 * and message on stderr (exit 1). Types are in the type syntax
 * (`--key-type tuple<string,long>`); a structured key is JSON
 * (`--key '["acme",1001]'`); a POJO key needs `--key-hash`.
 *
 * @param flags The resolved flags.
 * @returns The exit code.
 * @throws {CliUsageError} On flags that do not fit (a bad type names the
 *   position in its text; a bad key the path inside it).
 */
export async function clientCommand(flags: ResolvedFlags): Promise<number> {
  let query;
  try {
    const keyType = cliTypeOf(flags.requiredString("key-type"), "--key-type");
    const valueType = cliTypeOf(flags.requiredString("value-type"), "--value-type");
    const stateKind = flags.requiredString("state-kind");
    if (stateKind !== "value" && stateKind !== "list" && stateKind !== "map") {
      throw new CliUsageError("--state-kind: expected value, list or map");
    }
    const keyHash = keyHashOf(flags.string("key-hash"));
    if (keyHash === undefined && keyType.kind === "pojo") {
      throw new CliUsageError(
        "--key-hash: required for a pojo key (a POJO's Java hashCode() is user code)",
      );
    }
    const key = typedValue(keyType, flags.requiredString("key"), "--key", true);
    if (keyHash === undefined && keyType.kind !== keyType.text) {
      // A composite key whose hash needs user code (a POJO inside a tuple, ...).
      try {
        keyType.hashCode(key);
      } catch (e) {
        if (!(e instanceof TypeValueError)) throw e;
        throw new CliUsageError(
          `--key-hash: required: the key's Java hashCode() cannot be computed here (${e.problem})`,
        );
      }
    }
    query = {
      proxy: proxiesOf(flags),
      job: flags.requiredString("job"),
      state: flags.requiredString("state"),
      key,
      keyType,
      keySerializer: keyHash === undefined ? keyType : withKeyHash(keyType, keyHash),
      valueType,
      stateKind,
      mapKeyType: stateKind === "map"
        ? cliTypeOf(flags.requiredString("map-key-type"), "--map-key-type")
        : undefined,
      timeoutMs: flags.integer("timeout-ms"),
    } as const;
  } catch (e) {
    throw e instanceof CliUsageError ? e : new CliUsageError((e as Error).message);
  }

  const { transport } = await diallingTransport(flags);
  await using client = new QueryableStateClient({ transport, proxy: query.proxy });
  try {
    const common = { keyType: query.keySerializer, timeoutMs: query.timeoutMs };
    let value: unknown;
    if (query.stateKind === "list") {
      value = await client.getKvState(query.job, query.state, query.key, {
        ...common,
        valueType: query.valueType,
        stateKind: "list",
      });
    } else if (query.stateKind === "map") {
      value = await client.getKvState(query.job, query.state, query.key, {
        ...common,
        mapKeyType: query.mapKeyType!,
        valueType: query.valueType,
        stateKind: "map",
      });
    } else {
      value = await client.getKvState(query.job, query.state, query.key, {
        ...common,
        valueType: query.valueType,
      });
    }
    console.log(terminalText(showState(query.stateKind, query.valueType, value, query.mapKeyType)));
    return 0;
  } catch (e) {
    // The text comes from the proxy (or a state server behind it): no control sequences.
    if (e instanceof QueryableStateError) {
      console.error(terminalText(`${e.javaClassName}: ${e.message}`));
    } else console.error(terminalText(`error: ${(e as Error)?.message ?? e}`));
    return 1;
  }
}
