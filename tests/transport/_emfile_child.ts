/**
 * Child process of `accept_error_test.ts`: runs the EMFILE scenario on the
 * Deno adapter and prints its report as one JSON line. Run it under a low
 * `ulimit -n`, with `--allow-net=127.0.0.1 --allow-read=/dev/null`.
 */

import { denoTransport } from "../../src/transport/deno.ts";
import { emfileScenario, type FdFiller } from "./_emfile_scenario.ts";

const files: Deno.FsFile[] = [];
const fds: FdFiller = {
  fill() {
    try {
      for (let i = 0; i < 100_000; i++) files.push(Deno.openSync("/dev/null"));
    } catch {
      // Out of descriptors.
    }
    return files.length;
  },
  freeOne() {
    files.pop()?.close();
  },
  freeAll() {
    for (const f of files.splice(0)) f.close();
  },
};

console.log(JSON.stringify(await emfileScenario(denoTransport, fds)));
