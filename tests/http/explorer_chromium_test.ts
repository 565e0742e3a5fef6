/**
 * The explorer page in a real headless Chromium (Debian's `chromium`),
 * driven through the DevTools protocol over a WebSocket: a link shows the
 * demo value, the watch switch shows a change made to the in-process state,
 * and an absent key shows the error; then composite types typed into the
 * free-text type fields: a tuple-keyed POJO state shown as its JSON, a bad
 * type text showing the gateway's 400 with the parameter and a caret at the
 * position, a bad key naming its path, a POJO key with the keyHash field
 * (shown and required for it), and a watch refused for a bad type showing
 * why. The gateway runs behind `Deno.serve` on 127.0.0.1:0 in front of a
 * state plane on real sockets.
 *
 * Ignored, with a message saying so, when `/usr/bin/chromium` is missing
 * (`.ci/run` installs it with `apt-get install -y chromium` when it can).
 * Bounded: every wait has a deadline, the whole test at most 60 s.
 */

import { createWatchRoute, type WatchRoute } from "../../src/http/mod.ts";
import { denoTransport } from "../../src/transport/deno.ts";
import { assert, assertEquals } from "../_assert.ts";
import { JOB } from "./_plane.ts";
import {
  ADA_JSON,
  ORDERS_KEY_TYPE,
  ORDERS_VALUE_TYPE,
  REGION_KEY_TYPE,
  startCompositePlane,
} from "./_composite_plane.ts";

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
const NAME = "explorer page in headless Chromium: a link shows the value, watch shows a change, " +
  "composite types (tuple key, POJO value, POJO key with keyHash) and the gateway's errors";
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
    const plane = await startCompositePlane((client) => {
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

      // Composite types: a link to the tuple-keyed POJO state shows its JSON form.
      const link = new URLSearchParams({
        job: JOB,
        state: "orders",
        key: '["acme",1001]',
        keyType: ORDERS_KEY_TYPE,
        valueType: ORDERS_VALUE_TYPE,
      });
      await dt.send("Page.navigate", { url: `${base}/?${link}` }, sessionId);
      const order = await until<Shown>(
        RESULT,
        (v) => v?.kind === "value" && v.text.includes("Ada"),
        "the order",
      );
      assertEquals(order.text, JSON.stringify(ADA_JSON, null, 2));
      assertEquals(JSON.parse(order.text), ADA_JSON);
      const form = await evaluate(`({
        keyType: document.getElementById("keyType").value,
        valueType: document.getElementById("valueType").value,
        key: document.getElementById("key").value,
        keyList: document.getElementById("keyType").getAttribute("list"),
        suggestions: [...document.querySelectorAll("#type-suggestions option")].map((o) => o.value),
        keyHint: document.getElementById("keyHint").textContent,
        keyPlaceholder: document.getElementById("key").placeholder,
        keyHashHidden: document.getElementById("keyHash").hidden,
      })`) as Record<string, unknown>;
      assertEquals(
        [form.keyType, form.valueType, form.key, form.keyList],
        [ORDERS_KEY_TYPE, ORDERS_VALUE_TYPE, '["acme",1001]', "type-suggestions"],
      );
      const suggestions = form.suggestions as string[];
      for (const t of ["string", "long", "tuple<string,long>", "pojo<id:long,name:string>"]) {
        assert(suggestions.includes(t), t);
      }
      assert(String(form.keyHint).includes("JSON"), String(form.keyHint));
      assert(String(form.keyPlaceholder).includes("JSON"), String(form.keyPlaceholder));
      assertEquals(form.keyHashHidden, true);

      /** Sets form fields (as typing does: an input event each), then clicks a button. */
      const fill = (values: Record<string, string>, click = "go") =>
        evaluate(`(() => { const v = ${JSON.stringify(values)};
          for (const id of Object.keys(v)) {
            const el = document.getElementById(id);
            el.value = v[id];
            el.dispatchEvent(new Event("input", { bubbles: true }));
          }
          document.getElementById(${JSON.stringify(click)}).click(); })()`);
      const PARAMETER = `document.getElementById("result").dataset.parameter ?? null`;

      // A bad type text: the gateway's 400 as it comes, the parameter, a caret at its position.
      await fill({ keyType: "tuple<string,lon>" });
      const badType = await until<Shown>(
        RESULT,
        (v) => v?.kind === "error" && v.text.includes("keyType"),
        "the bad type's error",
      );
      assertEquals(
        badType.text,
        "BadParameterError (HTTP 400)\nparameter: keyType\n" +
          'Bad parameter keyType: at 13: unknown type "lon"\n\n' +
          "  tuple<string,lon>\n" +
          "  " + " ".repeat(13) + "^",
      );
      assertEquals(await evaluate(PARAMETER), "keyType");
      assertEquals(
        await evaluate(`document.getElementById("keyType").getAttribute("aria-invalid")`),
        "true",
      );
      // The page's own markup is intact: the remote text was set as text.
      assertEquals(await evaluate(`document.getElementById("result").children.length`), 0);

      // A bad key names the path inside it.
      await fill({ keyType: ORDERS_KEY_TYPE, key: '["acme","x"]' });
      const badKey = await until<Shown>(
        RESULT,
        (v) => v?.kind === "error" && v.text.includes("key[1]"),
        "the bad key's error",
      );
      assert(
        badKey.text.startsWith("BadParameterError (HTTP 400)\nparameter: key[1]\n"),
        badKey.text,
      );
      assertEquals(
        await evaluate(`[document.getElementById("keyType").getAttribute("aria-invalid"),
          document.getElementById("key").getAttribute("aria-invalid")]`),
        [null, "true"],
      );

      // A POJO key: the keyHash field appears, required; with it the value is shown.
      await evaluate(`document.getElementById("keyType").value = ${JSON.stringify(REGION_KEY_TYPE)};
        document.getElementById("keyType").dispatchEvent(new Event("input", { bubbles: true }));`);
      assertEquals(
        await evaluate(`(() => { const h = document.getElementById("keyHash");
          return [h.hidden, h.required, document.getElementById("keyHashLabel").hidden,
            document.getElementById("lookup").checkValidity()]; })()`),
        [false, true, false, false],
      );
      await fill({
        state: "by-pojo",
        key: '{"id":1,"region":"eu"}',
        valueType: "long",
        keyHash: "-17",
      });
      const pojo = await until<Shown>(
        RESULT,
        (v) => v?.kind === "value" && v.text === '"10"',
        "the POJO-keyed value",
      );
      assert(pojo.status.startsWith("HTTP 200"), pojo.status);
      const search = new URLSearchParams(String(await evaluate("location.search")));
      assertEquals(
        [search.get("keyType"), search.get("keyHash"), search.get("key")],
        [REGION_KEY_TYPE, "-17", '{"id":1,"region":"eu"}'],
      );

      // A watch refused for a bad type text: one lookup shows the gateway's reason.
      await fill({ valueType: "pojo<id:long" }, "watch");
      const refused = await until<Shown>(
        RESULT,
        (v) => v?.kind === "error" && v.text.includes("valueType"),
        "the refused watch's error",
      );
      assert(
        refused.text.startsWith("BadParameterError (HTTP 400)\nparameter: valueType\n"),
        refused.text,
      );
      assert(refused.text.endsWith("  pojo<id:long\n" + "  " + " ".repeat(12) + "^"), refused.text);
      assert(refused.status.startsWith("watch ended"), refused.status);
      assertEquals(await evaluate(`document.getElementById("watch").checked`), false);
      assertEquals(watch.active, 0);
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
