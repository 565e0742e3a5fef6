/**
 * Runs `tests/node/node_http.node.ts` (the `node:http` adapter's cases)
 * under the real `node` binary: bundled with `deno bundle`, run with
 * `node --test`. Ignored, saying so, when no `node` is on the PATH.
 */

import { NODE_VERSION, runUnderNode } from "../transport/_node_real.ts";
import { nodeHttpCases } from "./_node_http_cases.ts";

if (NODE_VERSION === null) {
  console.log("node_http_real_test: no `node` binary on the PATH: the real-Node run is ignored");
}

Deno.test({
  name: `node:http adapter under the real node binary (${NODE_VERSION ?? "absent"})`,
  ignore: NODE_VERSION === null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kvstate_node_http_" });
    try {
      // Every case passes, plus the check that Deno is absent.
      await runUnderNode({ file: "node_http.node.ts", dir, morePassesThan: nodeHttpCases.length });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
