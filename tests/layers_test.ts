/**
 * The layering rule of the design: no `Deno.*`, `node:*` or `cloudflare:*` in src/ outside the
 * transport adapters.
 */
import { assertEquals } from "./_assert.ts";

const ADAPTERS = new Set([
  "src/transport/deno.ts",
  "src/transport/node.ts",
  "src/transport/cloudflare.ts",
  "src/transport/node_http.ts",
]);
/** The CLI's glue (files, signals, environment); its pure parts stay checked. */
const CLI_GLUE = new Set(
  [
    "access_file",
    "config_file",
    "http_serve",
    "locations_source",
    "mod",
    "run",
    "server_command",
    "signals",
    "tls_flags",
  ].map((f) => `src/cli/${f}.ts`),
);

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) yield* walk(p);
    else if (p.endsWith(".ts")) yield p;
  }
}

Deno.test("layers: the core uses web APIs only", async () => {
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const offenders: string[] = [];
  for await (const file of walk(`${root}/src`)) {
    const rel = file.slice(root.length + 1);
    if (ADAPTERS.has(rel) || CLI_GLUE.has(rel)) continue;
    const lines = (await Deno.readTextFile(file)).split("\n");
    lines.forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, "");
      if (/^\s*\*/.test(line)) return; // JSDoc
      if (/\bDeno\./.test(code) || /["'](node|cloudflare):/.test(code)) {
        offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
      }
    });
  }
  assertEquals(offenders, []);
  const mod = await Deno.readTextFile(`${root}/mod.ts`);
  assertEquals(/transport\/(deno|node)\.ts/.test(mod), false, "mod.ts must not load an adapter");
});
