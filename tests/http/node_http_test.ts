/**
 * The `node:http` adapter under Deno's Node compatibility layer: the cases
 * of `_node_http_cases.ts` (the same ones run under the real `node` binary
 * through `tests/http/node_http_real_test.ts`).
 */

import { nodeHttpCases } from "./_node_http_cases.ts";

for (const c of nodeHttpCases) {
  Deno.test(`node:http adapter (Deno): ${c.name}`, () => c.run());
}
