/**
 * The explorer page in a real headless Chromium (Debian's `chromium`),
 * driven through the DevTools protocol over a WebSocket: a link shows the
 * demo value, the watch switch shows a change made to the in-process state,
 * and an absent key shows the error. The gateway runs behind `Deno.serve`
 * on 127.0.0.1:0 in front of a state plane on real sockets.
 *
 * Ignored, with a message saying so, when `/usr/bin/chromium` is missing
 * (`.ci/run` installs it with `apt-get install -y chromium` when it can).
 * Bounded: every wait has a deadline, the whole test at most 60 s.
 */

import { createWatchRoute, type WatchRoute } from "../../src/http/mod.ts";
import { denoTransport } from "../../src/transport/deno.ts";
import { assert, assertEquals } from "../_assert.ts";
import { JOB, startLivePlane } from "./_live_plane.ts";

const CHROMIUM = "/usr/bin/chromium";
const TEST_BUDGET_MS = 60_000;

function chromiumPresent(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

const present = chromiumPresent();
const NAME = "explorer page in headless Chromium: a link shows the value, watch shows a change";
if (!present) {
  console.log(
    `ignored: "${NAME}": ${CHROMIUM} is missing (install it with: apt-get install -y chromium)`,
  );
}

/** A DevTools protocol connection (flat sessions). */
class DevTools {
  readonly #ws: WebSocket;
  readonly #waiting = new Map<
    number,
    { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();
  readonly #closed: Promise<void>;
  #nextId = 1;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.#closed = new Promise((resolve) => ws.addEventListener("close", () => resolve()));
    ws.addEventListener("message", (e) => {
      const msg = JSON.parse(String(e.data));
      if (typeof msg.id !== "number") return; // an event
      const w = this.#waiting.get(msg.id);
      if (w === undefined) return;
      this.#waiting.delete(msg.id);
      if (msg.error) w.reject(new Error(`DevTools: ${JSON.stringify(msg.error)}`));
      else w.resolve(msg.result ?? {});
    });
    ws.addEventListener("close", () => {
      for (const w of this.#waiting.values()) w.reject(new Error("DevTools connection closed"));
      this.#waiting.clear();
    });
  }

  static async connect(url: string, ms: number): Promise<DevTools> {
    const ws = new WebSocket(url);
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        ws.addEventListener("open", () => resolve(), { once: true });
        ws.addEventListener("error", () => reject(new Error("DevTools: could not connect")), {
          once: true,
        });
      }),
      ms,
      "the DevTools WebSocket",
    ).catch((e) => {
      ws.close();
      throw e;
    });
    return new DevTools(ws);
  }

  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
    ms = 10_000,
  ): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
    });
    this.#ws.send(JSON.stringify({ id, method, params, sessionId }));
    return withDeadline(answer, ms, method);
  }

  async close(): Promise<void> {
    if (this.#ws.readyState !== WebSocket.CLOSED) this.#ws.close();
    await withDeadline(this.#closed, 5000, "the DevTools WebSocket to close").catch(() => {});
  }
}

/** `p`, or a rejection after `ms` (the timer is always cleared). */
async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads chromium's stderr until "DevTools listening on ws://…"; keeps draining after. */
function devToolsUrl(
  stderr: ReadableStream<Uint8Array>,
): { url: Promise<string>; drained: Promise<string> } {
  let found: (url: string) => void = () => {};
  let failed: (e: Error) => void = () => {};
  const url = new Promise<string>((resolve, reject) => {
    found = resolve;
    failed = reject;
  });
  const drained = (async () => {
    let text = "";
    let seen = false;
    const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      if (text.length < 64 * 1024) text += r.value;
      if (!seen) {
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(text);
        if (m) {
          seen = true;
          found(m[1]);
        }
      }
    }
    if (!seen) failed(new Error(`chromium ended without a DevTools URL:\n${text.slice(-2000)}`));
    return text;
  })();
  return { url, drained };
}

Deno.test({
  name: NAME,
  ignore: !present,
  async fn() {
    const budget = performance.now() + TEST_BUDGET_MS;
    const left = () => Math.max(1, budget - performance.now());
    let watch!: WatchRoute;
    const plane = await startLivePlane((client) => {
      watch = createWatchRoute({ client, minIntervalMs: 50 });
      return { client, watch: false, routes: [watch] };
    }, denoTransport);
    const ac = new AbortController();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
      plane.handler,
    );
    const profile = await Deno.makeTempDir({ prefix: "qs-chromium-" });
    let child: Deno.ChildProcess | undefined;
    let drained: Promise<string> | undefined;
    let devtools: DevTools | undefined;
    try {
      child = new Deno.Command(CHROMIUM, {
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          `--user-data-dir=${profile}`,
          "--remote-debugging-port=0",
          "about:blank",
        ],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const out = devToolsUrl(child.stderr);
      drained = out.drained;
      const browserUrl = await withDeadline(out.url, Math.min(left(), 30_000), "chromium to start");
      assert(browserUrl.startsWith("ws://127.0.0.1:"), browserUrl);
      devtools = await DevTools.connect(browserUrl, Math.min(left(), 10_000));

      const { targetId } = await devtools.send("Target.createTarget", { url: "about:blank" });
      const { sessionId } = await devtools.send("Target.attachToTarget", {
        targetId,
        flatten: true,
      }) as { sessionId: string };
      const dt = devtools;
      const evaluate = async (expression: string): Promise<unknown> => {
        const r = await dt.send("Runtime.evaluate", {
          expression,
          returnByValue: true,
          awaitPromise: true,
        }, sessionId) as { result: { value?: unknown }; exceptionDetails?: unknown };
        if (r.exceptionDetails) throw new Error(`page: ${JSON.stringify(r.exceptionDetails)}`);
        return r.result.value;
      };
      /** Polls the page until `check(value)` holds; returns the value. */
      const until = async <T>(
        expression: string,
        check: (v: T) => boolean,
        what: string,
      ): Promise<T> => {
        const deadline = performance.now() + Math.min(left(), 15_000);
        let last: T | undefined;
        for (let round = 0; round < 1000; round++) {
          last = await evaluate(expression) as T;
          if (check(last)) return last;
          if (performance.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`the page never showed ${what}; last: ${JSON.stringify(last)}`);
      };
      const RESULT = `(() => { const r = document.getElementById("result");
        if (r === null || document.body.dataset.ready !== "1") return null;
        return { kind: r.dataset.kind, text: r.textContent, events: r.dataset.events ?? "0",
          status: document.getElementById("status").textContent }; })()`;
      type Shown = { kind: string; text: string; events: string; status: string };

      const base = `http://127.0.0.1:${server.addr.port}`;
      await dt.send("Page.enable", {}, sessionId);
      await dt.send("Page.navigate", {
        url: `${base}/?job=${JOB}&state=live&key=hello&keyType=string&valueType=long` +
          "&intervalMs=50",
      }, sessionId);

      // The link ran the lookup: the demo value is shown, the form filled.
      const first = await until<Shown>(RESULT, (v) => v?.kind === "value", "the value");
      assertEquals(first.text, '"42"');
      assertEquals(
        await evaluate(
          `["job", "state", "key", "keyType", "valueType", "stateKind", "intervalMs"]
            .map((id) => document.getElementById(id).value)`,
        ),
        [JOB, "live", "hello", "string", "long", "value", "50"],
      );

      // The watch switch: the first event shows the value, a change shows up.
      await evaluate(`document.getElementById("watch").click()`);
      await until<Shown>(RESULT, (v) => v?.kind === "value" && v.events !== "0", "a watch event");
      assertEquals(watch.active, 1);
      plane.values.set("hello", 4242n);
      const live = await until<Shown>(RESULT, (v) => v?.text === '"4242"', "the change");
      assertEquals(live.kind, "value");
      assert(live.status.startsWith("watching"), live.status);
      assertEquals(
        await evaluate("location.search"),
        `?job=${JOB}&state=live&key=hello&keyType=string&valueType=long&intervalMs=50&watch=1`,
      );

      // Watch off, then an absent key: the error is shown.
      await evaluate(`document.getElementById("watch").click()`);
      await until<number>("0", () => watch.active === 0, "the watch stream to end");
      await evaluate(`document.getElementById("key").value = "nope";
        document.getElementById("go").click();`);
      const miss = await until<Shown>(RESULT, (v) => v?.kind === "error", "the error");
      assert(miss.text.startsWith("UnknownKeyOrNamespaceError (HTTP 404)"), miss.text);
    } finally {
      await devtools?.close();
      if (child !== undefined) {
        try {
          child.kill("SIGTERM");
        } catch {
          // Already gone.
        }
        const ended = await withDeadline(child.status, 5000, "chromium to exit").then(
          () => true,
          () => false,
        );
        if (!ended) {
          try {
            child.kill("SIGKILL");
          } catch {
            // Already gone.
          }
          await child.status;
        }
      }
      await drained?.catch(() => "");
      watch?.closeAll();
      ac.abort();
      await server.finished;
      await plane.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
