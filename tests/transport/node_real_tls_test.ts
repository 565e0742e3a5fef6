/**
 * Runs `tests/node/node_tls.node.ts` under the real `node` binary: makes the
 * certificates with `openssl` into a temporary directory, bundles the file
 * with `deno bundle` (`node:*` stays external) and runs `node --test` on
 * the bundle with `KVSTATE_TLS_DIR` set. Ignored, saying so, without `node`
 * or without `openssl`.
 */

import { assert } from "../_assert.ts";
import { hasOpenssl, makeCertsIn } from "./_tls_certs.ts";

const decoder = new TextDecoder();

async function nodeVersion(): Promise<string | null> {
  try {
    const out = await new Deno.Command("node", {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? decoder.decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

const version = await nodeVersion();
if (version === null) {
  console.log("node_real_tls_test: no `node` binary on the PATH: the real-Node TLS run is ignored");
}
if (!hasOpenssl) {
  console.log("node_real_tls_test: no `openssl` on the PATH: the real-Node TLS run is ignored");
}

Deno.test({
  name: `node transport TLS, keepalive and accept failures under the real node binary (${
    version ?? "absent"
  })`,
  ignore: version === null || !hasOpenssl,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kvstate_node_tls_" });
    try {
      await makeCertsIn(dir);
      const entry = new URL("../node/node_tls.node.ts", import.meta.url).pathname;
      const bundle = `${dir}/node_tls.node.mjs`;
      const bundled = await new Deno.Command(Deno.execPath(), {
        args: ["bundle", "--quiet", "--platform=deno", "--format=esm", "-o", bundle, entry],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert(
        bundled.success,
        `deno bundle failed:\n${decoder.decode(bundled.stdout)}${decoder.decode(bundled.stderr)}`,
      );
      const source = await Deno.readTextFile(bundle);
      assert(!/\bDeno\.[a-z]/.test(source), "the bundle references Deno APIs");

      const run = await new Deno.Command("node", {
        args: ["--test", "--test-reporter=tap", bundle],
        stdout: "piped",
        stderr: "piped",
        cwd: dir,
        env: { KVSTATE_TLS_DIR: dir },
      }).output();
      const output = decoder.decode(run.stdout) + decoder.decode(run.stderr);
      assert(run.code === 0, `node --test exited with ${run.code}:\n${output}`);
      const pass = /^# pass (\d+)$/m.exec(output);
      const fail = /^# fail (\d+)$/m.exec(output);
      assert(pass !== null && Number(pass[1]) > 40 && fail?.[1] === "0", `unexpected:\n${output}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
