/**
 * What the examples share: how they name themselves in usage lines and in
 * the demo's hint. The programs live in `src/cli/` (published as
 * `@kvstate/queryable-state/cli`); the examples are thin entry points.
 *
 * @module
 */

import type { CliContext } from "../src/cli/context.ts";

/** The examples' context: usage lines say `proxy.ts`, the demo hints at `examples/client.ts`. */
export const EXAMPLES_CONTEXT: CliContext = {
  prog: (command) => `${command}.ts`,
  clientCommand: "npx -y deno@2.9.6 run --allow-net=127.0.0.1 examples/client.ts",
};
