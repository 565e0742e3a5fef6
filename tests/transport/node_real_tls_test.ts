/**
 * Runs `tests/node/node_tls.node.ts` under the real `node` binary: makes the
 * certificates with `openssl` into a temporary directory, bundles the file
 * with `deno bundle` (`node:*` stays external) and runs `node --test` on
 * the bundle with `KVSTATE_TLS_DIR` set. Ignored, saying so, without `node`
 * or without `openssl`.
 */

import { NODE_VERSION, runUnderNode } from "./_node_real.ts";
import { hasOpenssl, makeCertsIn } from "./_tls_certs.ts";

if (NODE_VERSION === null) {
  console.log("node_real_tls_test: no `node` binary on the PATH: the real-Node TLS run is ignored");
}
if (!hasOpenssl) {
  console.log("node_real_tls_test: no `openssl` on the PATH: the real-Node TLS run is ignored");
}

Deno.test({
  name: `node transport TLS, keepalive and accept failures under the real node binary (${
    NODE_VERSION ?? "absent"
  })`,
  ignore: NODE_VERSION === null || !hasOpenssl,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kvstate_node_tls_" });
    try {
      await makeCertsIn(dir);
      await runUnderNode({
        file: "node_tls.node.ts",
        dir,
        morePassesThan: 40,
        env: { KVSTATE_TLS_DIR: dir },
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
