/**
 * The `node:http` adapter under the real `node` binary (not Deno's
 * compatibility layer): the cases of `tests/http/_node_http_cases.ts`.
 * Bundled to one ES module by `tests/http/node_http_real_test.ts`
 * (`deno bundle`, `node:*` kept external) and run with `node --test`.
 * Nothing here, nor in what it imports, may touch `Deno`.
 */

import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { nodeHttpCases } from "../http/_node_http_cases.ts";

test("runs under Node without Deno globals", () => {
  assert.equal(typeof (globalThis as Record<string, unknown>).Deno, "undefined");
  assert.match(process.version, /^v\d+\./);
});

for (const c of nodeHttpCases) {
  test(`node:http adapter (Node): ${c.name}`, () => c.run());
}
