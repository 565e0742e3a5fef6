/**
 * Builds the package the way JSR serves it to npm users: one `.js` file per
 * source file with its `.d.ts` declaration, relative imports rewritten from
 * `.ts` to `.js`, and a `package.json` (`"type": "module"`) whose `exports`
 * give `types` and `default` for every subpath a Node or Bun user can run.
 *
 * Subpaths built: `.`, `./node`, `./cloudflare`, `./http`, `./http/node`,
 * `./observability`, `./wire`, `./streams`.
 * Left out on purpose, as Deno-only: `./deno` (the Deno transport calls
 * `Deno.connect`/`Deno.listen`) and `./cli` (the command line reads
 * `Deno.args`, signals and files through `Deno.*`). JSR still serves both
 * to npm users, but they cannot run outside Deno; the build leaves them out
 * so that the round trip under Node tests only what works there.
 *
 * The TypeScript compiler comes from npm at build time (`typescript@5`,
 * with `rewriteRelativeImportExtensions`, TypeScript >= 5.7), installed
 * with `npm install --no-save` into a tools folder next to the output,
 * together with `@types/node@20` (for the consumer check of the tests).
 * The output has no dependencies.
 *
 * ```sh
 * deno run -A tools/build_npm.ts [--out DIR]   # prints the output folder
 * ```
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);

/** The subpaths of deno.json's "exports" that the npm-shaped build carries. */
export const NPM_SUBPATHS: readonly string[] = [
  ".",
  "./node",
  "./cloudflare",
  "./http",
  "./http/node",
  "./observability",
  "./wire",
  "./streams",
];

/** The subpaths deliberately left out, as Deno-only. */
export const DENO_ONLY_SUBPATHS: readonly string[] = ["./deno", "./cli"];

/** Options of {@link buildNpm}. */
export interface BuildNpmOptions {
  /** The folder the package is written to (created; emptied first). */
  outDir: string;
  /**
   * Where `typescript` and `@types/node` are installed with npm
   * (default: `<outDir>/../npm_tools`); reused when already there.
   */
  toolsDir?: string;
  /** Bound on each `npm install` and `tsc` run, in ms (default 180000). */
  timeoutMs?: number;
}

/** What {@link buildNpm} produced. */
export interface BuildNpmResult {
  /** The package folder (holds `package.json`). */
  outDir: string;
  /** The folder holding `node_modules/typescript` and `node_modules/@types/node`. */
  toolsDir: string;
  /** The `tsc` entry script (run it with `node`). */
  tscJs: string;
  /** How many `.js` files were written. */
  jsFiles: number;
  /** How long the build took, in ms (npm install included). */
  ms: number;
}

interface DenoJson {
  name: string;
  version: string;
  license?: string;
  exports: Record<string, string>;
}

async function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<void> {
  const child = new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).spawn();
  const out = await child.output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}):\n${text.slice(0, 4000)}`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Installs the build's tools with npm into `toolsDir` unless already there. */
export async function installTools(toolsDir: string, timeoutMs = 180_000): Promise<string> {
  const tscJs = `${toolsDir}/node_modules/typescript/bin/tsc`;
  if (!(await exists(tscJs)) || !(await exists(`${toolsDir}/node_modules/@types/node`))) {
    await Deno.mkdir(toolsDir, { recursive: true });
    await Deno.writeTextFile(`${toolsDir}/package.json`, '{ "private": true }\n');
    await run(
      "npm",
      [
        "install",
        "--no-save",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        "typescript@5",
        "@types/node@20",
      ],
      toolsDir,
      timeoutMs,
    );
  }
  return tscJs;
}

async function countJs(dir: string): Promise<number> {
  let n = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) n += await countJs(path);
    else if (entry.name.endsWith(".js")) n++;
  }
  return n;
}

/** Rewrites `./x.ts` module specifiers left in declarations to `./x.js`. */
async function rewriteDeclarations(dir: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) {
      await rewriteDeclarations(path);
    } else if (entry.name.endsWith(".d.ts")) {
      const text = await Deno.readTextFile(path);
      const fixed = text.replace(
        /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+)\.ts(["'])/g,
        "$1$2.js$3",
      );
      if (fixed !== text) await Deno.writeTextFile(path, fixed);
    }
  }
}

/**
 * Builds the npm-shaped package into `options.outDir` (see the module doc).
 * Throws when npm or the TypeScript compiler fails.
 */
export async function buildNpm(options: BuildNpmOptions): Promise<BuildNpmResult> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 180_000;
  const outDir = options.outDir.replace(/\/+$/, "");
  const toolsDir = options.toolsDir ?? `${outDir}/../npm_tools`;
  const root = decodeURIComponent(ROOT.pathname).replace(/\/$/, "");
  const denoJson = JSON.parse(await Deno.readTextFile(`${root}/deno.json`)) as DenoJson;

  const tscJs = await installTools(toolsDir, timeoutMs);
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(outDir, { recursive: true });

  const entries = NPM_SUBPATHS.map((subpath) => {
    const source = denoJson.exports[subpath];
    if (source === undefined) throw new Error(`deno.json has no export ${subpath}`);
    return source;
  });
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      module: "ESNext",
      moduleResolution: "Bundler",
      lib: ["ES2022", "DOM", "DOM.Iterable"],
      types: ["node"],
      typeRoots: [`${toolsDir}/node_modules/@types`],
      allowImportingTsExtensions: true,
      rewriteRelativeImportExtensions: true,
      declaration: true,
      // JSR's rule (no slow types) makes every export explicitly typed, so
      // declarations come from annotations: deno check does the checking.
      noCheck: true,
      isolatedModules: true,
      strict: true,
      skipLibCheck: true,
      removeComments: false,
      rootDir: root,
      outDir,
    },
    files: entries.map((e) => `${root}/${e.replace(/^\.\//, "")}`),
  };
  const configDir = await Deno.makeTempDir({ prefix: "kvstate_npm_tsconfig_" });
  try {
    await Deno.writeTextFile(`${configDir}/tsconfig.json`, JSON.stringify(tsconfig, null, 2));
    await run("node", [tscJs, "-p", `${configDir}/tsconfig.json`], configDir, timeoutMs);
  } finally {
    await Deno.remove(configDir, { recursive: true });
  }
  await rewriteDeclarations(outDir);

  const exportsMap: Record<string, { types: string; default: string }> = {};
  for (const [i, subpath] of NPM_SUBPATHS.entries()) {
    const base = entries[i].replace(/\.ts$/, "");
    exportsMap[subpath] = { types: `${base}.d.ts`, default: `${base}.js` };
  }
  const pkg = {
    name: denoJson.name,
    version: denoJson.version,
    license: denoJson.license,
    type: "module",
    exports: exportsMap,
    engines: { node: ">=20" },
  };
  await Deno.writeTextFile(`${outDir}/package.json`, JSON.stringify(pkg, null, 2) + "\n");
  for (const file of ["README.md", "LICENSE"]) {
    if (await exists(`${root}/${file}`)) {
      await Deno.copyFile(`${root}/${file}`, `${outDir}/${file}`);
    }
  }
  return {
    outDir,
    toolsDir,
    tscJs,
    jsFiles: await countJs(outDir),
    ms: Math.round(performance.now() - started),
  };
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--out");
  const outDir = i >= 0 && Deno.args[i + 1]
    ? Deno.args[i + 1]
    : `${await Deno.makeTempDir({ prefix: "kvstate_npm_" })}/package`;
  const result = await buildNpm({ outDir });
  console.log(
    `built ${result.jsFiles} .js files into ${result.outDir} in ${result.ms} ms`,
  );
}
