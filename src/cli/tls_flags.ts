/**
 * The TLS flags, made into transports (CLI glue: reads the PEM files).
 * Plaintext unless a flag asks for TLS.
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

import type { Transport } from "../transport/types.ts";
import { DenoTransport, denoTransport } from "../transport/deno.ts";
import { NodeTransport } from "../transport/node.ts";
import { CliUsageError, type ResolvedFlags } from "./flags.ts";

async function readPem(flags: ResolvedFlags, name: string): Promise<string> {
  const file = flags.requiredString(name);
  try {
    return await Deno.readTextFile(file);
  } catch (e) {
    throw new CliUsageError(`--${name} ${file}: cannot read it: ${(e as Error).message}`);
  }
}

/** A transport, and a line describing it for the start-up output. */
export interface TlsTransport {
  /** The transport. */
  readonly transport: Transport;
  /** E.g. `TLS: serving server.crt`; empty for plaintext. */
  readonly summary: string;
}

/**
 * The listener's transport from `--tls-cert`, `--tls-key`, `--tls-client-ca`.
 *
 * @param flags The flags.
 * @returns The transport (plaintext without the flags).
 * @throws {CliUsageError} When only one of cert and key is given, a file
 * cannot be read, or the certificate is refused.
 */
export async function servingTransport(flags: ResolvedFlags): Promise<TlsTransport> {
  const cert = flags.has("tls-cert");
  const key = flags.has("tls-key");
  const clientCa = flags.has("tls-client-ca");
  if (!cert && !key && !clientCa) return { transport: denoTransport, summary: "" };
  if (!cert || !key) throw new CliUsageError("--tls-cert and --tls-key go together");
  const listenTls = {
    cert: await readPem(flags, "tls-cert"),
    key: await readPem(flags, "tls-key"),
    clientCa: clientCa ? await readPem(flags, "tls-client-ca") : undefined,
  };
  try {
    return clientCa
      ? {
        transport: new NodeTransport({ listenTls }),
        summary: `TLS: serving ${flags.string("tls-cert")}, client certificates from ${
          flags.string("tls-client-ca")
        } required (Node adapter)`,
      }
      : {
        transport: new DenoTransport({ listenTls }),
        summary: `TLS: serving ${flags.string("tls-cert")}`,
      };
  } catch (e) {
    throw new CliUsageError(`TLS: ${(e as Error).message}`);
  }
}

/**
 * The transport that dials out, from `--{prefix}tls`, `--{prefix}tls-ca`,
 * `--{prefix}tls-cert`, `--{prefix}tls-key`.
 *
 * @param flags The flags.
 * @param prefix `""` for the client, `"upstream-"` for the proxy's upstream.
 * @returns The transport (plaintext without the flags).
 * @throws {CliUsageError} When only one of cert and key is given, a file
 * cannot be read, or the transport refuses its contents (an empty PEM file).
 */
export async function diallingTransport(
  flags: ResolvedFlags,
  prefix = "",
): Promise<TlsTransport> {
  const [tls, caFlag, certFlag, keyFlag] = ["tls", "tls-ca", "tls-cert", "tls-key"].map((f) =>
    prefix + f
  );
  const wanted = flags.boolean(tls) || [caFlag, certFlag, keyFlag].some((f) => flags.has(f));
  if (!wanted) return { transport: denoTransport, summary: "" };
  if (flags.has(certFlag) !== flags.has(keyFlag)) {
    throw new CliUsageError(`--${certFlag} and --${keyFlag} go together`);
  }
  const connectTls = {
    ca: flags.has(caFlag) ? await readPem(flags, caFlag) : undefined,
    cert: flags.has(certFlag) ? await readPem(flags, certFlag) : undefined,
    key: flags.has(keyFlag) ? await readPem(flags, keyFlag) : undefined,
  };
  const trust = connectTls.ca === undefined ? "the default roots" : flags.string(caFlag);
  let transport: Transport;
  try {
    transport = new DenoTransport({ connectTls });
  } catch (e) {
    throw new CliUsageError(`TLS: ${(e as Error).message}`);
  }
  return {
    transport,
    summary: `TLS${prefix === "" ? "" : " upstream"}: trusting ${trust}` +
      (connectTls.cert === undefined ? "" : `, presenting ${flags.string(certFlag)}`),
  };
}
