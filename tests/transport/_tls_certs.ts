/**
 * Certificates for the TLS tests, made at test time by the `openssl` on the
 * PATH (EC P-256, so it takes well under a second). Tests that need them
 * are ignored, saying so, when there is no `openssl`.
 *
 * What is made, all PEM, in one temporary directory:
 * - `ca`: CA "A"; `otherCa`: CA "B" (trusted by nobody in the good paths);
 * - `server`: a server certificate from A for `localhost` and `127.0.0.1`,
 *   valid now; `serverFromOtherCa`: the same names, from B;
 * - `expired`: a server certificate from A that was valid only in 2020
 *   (`openssl ca -startdate/-enddate`);
 * - `client`: a client certificate from A; `clientFromOtherCa`: from B.
 */

import { toolVersion } from "./_tool_version.ts";

/** A certificate and its key, as PEM text, and the files holding them. */
export interface CertAndKey {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** Everything {@linkcode makeCerts} makes. */
export interface TlsFixture {
  readonly dir: string;
  readonly ca: string;
  readonly caFile: string;
  readonly otherCa: string;
  readonly otherCaFile: string;
  readonly server: CertAndKey;
  readonly serverFromOtherCa: CertAndKey;
  readonly expired: CertAndKey;
  readonly client: CertAndKey;
  readonly clientFromOtherCa: CertAndKey;
}

const decoder = new TextDecoder();

/** The `openssl` version line, or `null` without one on the PATH. */
export const OPENSSL_VERSION: string | null = await toolVersion("openssl", ["version"]);
/** Whether the TLS tests can run. */
export const hasOpenssl: boolean = OPENSSL_VERSION !== null;

/** Logs, once per test module, why the TLS tests are ignored. */
export function sayWhenIgnored(module: string): void {
  if (!hasOpenssl) console.log(`${module}: no \`openssl\` on the PATH: the TLS tests are ignored`);
}

const CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
[client_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:kvstate-test-client
[ca]
default_ca = test_ca
[test_ca]
database = index.txt
new_certs_dir = .
serial = serial.txt
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = none
[any_name]
commonName = supplied
`;

async function openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
    env: { OPENSSL_CONF: `${dir}/openssl.cnf` },
  }).output();
  if (!out.success) {
    throw new Error(
      `openssl ${args.join(" ")} failed:\n${decoder.decode(out.stdout)}${
        decoder.decode(out.stderr)
      }`,
    );
  }
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

async function makeCa(dir: string, name: string, cn: string): Promise<void> {
  await openssl(dir, [
    "req",
    "-config",
    "openssl.cnf",
    "-x509",
    ...EC,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.crt`,
    "-subj",
    `/CN=${cn}`,
    "-days",
    "2",
    "-extensions",
    "ca_ext",
  ]);
}

async function makeRequest(dir: string, name: string, cn: string): Promise<void> {
  await openssl(dir, [
    "req",
    "-config",
    "openssl.cnf",
    "-new",
    ...EC,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${cn}`,
  ]);
}

let serial = 1;

async function sign(
  dir: string,
  request: string,
  ca: string,
  ext: string,
  out: string,
): Promise<void> {
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${request}.csr`,
    "-CA",
    `${ca}.crt`,
    "-CAkey",
    `${ca}.key`,
    "-set_serial",
    String(serial++),
    "-days",
    "2",
    "-extfile",
    "openssl.cnf",
    "-extensions",
    ext,
    "-out",
    `${out}.crt`,
  ]);
}

async function pair(dir: string, certName: string, keyName: string): Promise<CertAndKey> {
  const certFile = `${dir}/${certName}.crt`;
  const keyFile = `${dir}/${keyName}.key`;
  return {
    cert: await Deno.readTextFile(certFile),
    key: await Deno.readTextFile(keyFile),
    certFile,
    keyFile,
  };
}

/**
 * Makes the certificates in `dir` (which must exist).
 *
 * @param dir The directory.
 * @returns The fixture.
 */
export async function makeCertsIn(dir: string): Promise<TlsFixture> {
  await Deno.writeTextFile(`${dir}/openssl.cnf`, CONFIG);
  await Deno.writeTextFile(`${dir}/index.txt`, "");
  await Deno.writeTextFile(`${dir}/serial.txt`, "1000\n");
  await makeCa(dir, "ca", "kvstate test CA A");
  await makeCa(dir, "other_ca", "kvstate test CA B");
  await makeRequest(dir, "server", "localhost");
  await sign(dir, "server", "ca", "server_ext", "server");
  await sign(dir, "server", "other_ca", "server_ext", "server_from_other_ca");
  await openssl(dir, [
    "ca",
    "-batch",
    "-config",
    "openssl.cnf",
    "-cert",
    "ca.crt",
    "-keyfile",
    "ca.key",
    "-in",
    "server.csr",
    "-out",
    "expired.crt",
    "-startdate",
    "20200101000000Z",
    "-enddate",
    "20200102000000Z",
    "-extfile",
    "openssl.cnf",
    "-extensions",
    "server_ext",
    "-notext",
  ]);
  await makeRequest(dir, "client", "kvstate-test-client");
  await sign(dir, "client", "ca", "client_ext", "client");
  await sign(dir, "client", "other_ca", "client_ext", "client_from_other_ca");
  return {
    dir,
    ca: await Deno.readTextFile(`${dir}/ca.crt`),
    caFile: `${dir}/ca.crt`,
    otherCa: await Deno.readTextFile(`${dir}/other_ca.crt`),
    otherCaFile: `${dir}/other_ca.crt`,
    server: await pair(dir, "server", "server"),
    serverFromOtherCa: await pair(dir, "server_from_other_ca", "server"),
    expired: await pair(dir, "expired", "server"),
    client: await pair(dir, "client", "client"),
    clientFromOtherCa: await pair(dir, "client_from_other_ca", "client"),
  };
}

let made: Promise<TlsFixture> | undefined;

/**
 * The certificates, made once per test module in a temporary directory that
 * is removed when the module's tests are done (on `unload`).
 *
 * @returns The fixture.
 */
export function makeCerts(): Promise<TlsFixture> {
  return made ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "kvstate_tls_" });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // Gone already.
      }
    });
    return await makeCertsIn(dir);
  })();
}
