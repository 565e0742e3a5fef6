/**
 * The TLS flags of the examples, made into transports. Plaintext unless a
 * flag asks for TLS.
 *
 * Serving (proxy, server): `--tls-cert FILE --tls-key FILE` serve TLS;
 * `--tls-client-ca FILE` also requires client certificates from that CA.
 * Deno's own TLS server cannot ask for client certificates, so with
 * `--tls-client-ca` the listener is the Node adapter (under Deno).
 *
 * Dialling (client; the proxy's upstream with the `upstream-` prefix):
 * `--tls-ca FILE` trusts that CA (in addition to Deno's default roots),
 * `--tls` alone uses the default roots, `--tls-cert FILE --tls-key FILE`
 * present a client certificate (mutual TLS).
 *
 * @module
 */

import type { Transport } from "../mod.ts";
import { DenoTransport, denoTransport } from "../src/transport/deno.ts";
import { NodeTransport } from "../src/transport/node.ts";
import { type Flags, stringFlag, UsageError } from "./_cli.ts";

/** The serving flags. */
export const TLS_SERVE_FLAGS: readonly string[] = ["tls-cert", "tls-key", "tls-client-ca"];

/**
 * The dialling flags, under a prefix (`""` or `"upstream-"`).
 *
 * @param prefix The prefix.
 * @returns The flag names.
 */
export function tlsDialFlags(prefix: string): string[] {
  return ["tls", "tls-ca", "tls-cert", "tls-key"].map((f) => prefix + f);
}

async function readPem(flags: Flags, name: string): Promise<string> {
  const file = stringFlag(flags, name);
  try {
    return await Deno.readTextFile(file);
  } catch (e) {
    throw new UsageError(`--${name} ${file}: cannot read it: ${(e as Error).message}`);
  }
}

/** A transport, and a line describing it for the start-up output. */
export interface TlsTransport {
  readonly transport: Transport;
  /** E.g. `TLS: serving with server.crt, client certificates required (Node adapter)`; empty for plaintext. */
  readonly summary: string;
}

/**
 * The listener's transport from `--tls-cert`, `--tls-key`, `--tls-client-ca`.
 *
 * @param flags The flags.
 * @returns The transport (plaintext without the flags).
 * @throws {UsageError} When only one of cert and key is given, a file cannot
 * be read, or the certificate is refused.
 */
export async function servingTransport(flags: Flags): Promise<TlsTransport> {
  const cert = flags["tls-cert"] !== undefined;
  const key = flags["tls-key"] !== undefined;
  const clientCa = flags["tls-client-ca"] !== undefined;
  if (!cert && !key && !clientCa) return { transport: denoTransport, summary: "" };
  if (!cert || !key) throw new UsageError("--tls-cert and --tls-key go together");
  const listenTls = {
    cert: await readPem(flags, "tls-cert"),
    key: await readPem(flags, "tls-key"),
    clientCa: clientCa ? await readPem(flags, "tls-client-ca") : undefined,
  };
  try {
    return clientCa
      ? {
        transport: new NodeTransport({ listenTls }),
        summary: `TLS: serving ${flags["tls-cert"]}, client certificates from ${
          flags["tls-client-ca"]
        } required (Node adapter)`,
      }
      : {
        transport: new DenoTransport({ listenTls }),
        summary: `TLS: serving ${flags["tls-cert"]}`,
      };
  } catch (e) {
    throw new UsageError(`TLS: ${(e as Error).message}`);
  }
}

/**
 * The transport that dials out, from `--{prefix}tls`, `--{prefix}tls-ca`,
 * `--{prefix}tls-cert`, `--{prefix}tls-key`.
 *
 * @param flags The flags.
 * @param prefix `""` for the client, `"upstream-"` for the proxy's upstream.
 * @returns The transport (plaintext without the flags).
 * @throws {UsageError} When only one of cert and key is given, or a file cannot be read.
 */
export async function diallingTransport(flags: Flags, prefix = ""): Promise<TlsTransport> {
  const [tls, caFlag, certFlag, keyFlag] = tlsDialFlags(prefix);
  const wanted = [tls, caFlag, certFlag, keyFlag].some((f) => flags[f] !== undefined);
  if (!wanted) return { transport: denoTransport, summary: "" };
  if (flags[tls] !== undefined && flags[tls] !== true) {
    throw new UsageError(`--${tls} takes no value`);
  }
  if ((flags[certFlag] === undefined) !== (flags[keyFlag] === undefined)) {
    throw new UsageError(`--${certFlag} and --${keyFlag} go together`);
  }
  const connectTls = {
    ca: flags[caFlag] === undefined ? undefined : await readPem(flags, caFlag),
    cert: flags[certFlag] === undefined ? undefined : await readPem(flags, certFlag),
    key: flags[keyFlag] === undefined ? undefined : await readPem(flags, keyFlag),
  };
  const trust = connectTls.ca === undefined ? "the default roots" : String(flags[caFlag]);
  return {
    transport: new DenoTransport({ connectTls }),
    summary: `TLS${prefix === "" ? "" : " upstream"}: trusting ${trust}` +
      (connectTls.cert === undefined ? "" : `, presenting ${flags[certFlag]}`),
  };
}
