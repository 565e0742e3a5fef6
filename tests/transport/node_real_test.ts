/**
 * Runs `tests/node/node_transport.node.ts` under the real `node` binary:
 * bundles it with `deno bundle` (`node:*` stays external) into a temporary
 * directory and runs `node --test` on the bundle. Ignored, saying so, when
 * no `node` is on the PATH.
 */

import { NODE_VERSION, runUnderNode } from "./_node_real.ts";

if (NODE_VERSION === null) {
  console.log("node_real_test: no `node` binary on the PATH: the real-Node run is ignored");
}

Deno.test({
  name: `node transport under the real node binary (${NODE_VERSION ?? "absent"})`,
  ignore: NODE_VERSION === null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kvstate_node_" });
    try {
      await runUnderNode({ file: "node_transport.node.ts", dir, morePassesThan: 0 });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
