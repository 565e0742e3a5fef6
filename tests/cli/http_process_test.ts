/**
 * The HTTP side of the CLI as a user runs it: `proxy --http`, the demo's
 * own HTTP gateway and explorer link, and `gateway --proxy` in front of our
 * proxy. Real processes, real sockets on 127.0.0.1, every wait bounded,
 * stopped by pid.
 */
import { assert, assertEquals } from "../_assert.ts";
import { type CliProcess, runCli, startCli, stopCleanly } from "./_process.ts";

const JOB = "0102030405060708a1a2a3a4a5a6a7a8";
const HELLO = `/v1/jobs/${JOB}/states/word-counts?key=hello&keyType=string&valueType=long`;
/** A log line of `--log-format text` (the default) at info level or below. */
const INFO_LOG_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO) [a-z_]+( |$)/;

async function binaryListening(p: CliProcess): Promise<string> {
  return (await p.waitFor("stdout", /^listening on (\S+)$/))[1];
}

async function httpListening(p: CliProcess): Promise<string> {
  return `http://${(await p.waitFor("stdout", /^http listening on (\S+)$/))[1]}`;
}

/** GETs `url` (bounded) and returns the status, content type and body. */
async function get(url: string): Promise<[number, string | null, string]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return [res.status, res.headers.get("content-type"), await res.text()];
}

async function stopped(p: CliProcess): Promise<void> {
  await stopCleanly(p);
  assert(p.stdout.includes("SIGTERM: shutting down"), p.stdout.join("\n"));
}

Deno.test("cli http: proxy --http 127.0.0.1:0 answers a value, a batch and /healthz", async () => {
  const proxy = startCli(["proxy", "--port", "0", "--http", "127.0.0.1:0"]);
  try {
    await binaryListening(proxy);
    const base = await httpListening(proxy);
    assert(/^http:\/\/127\.0\.0\.1:\d+$/.test(base), base);
    assert(!base.endsWith(":0"), `the real port is printed: ${base}`);
    assertEquals(await get(base + HELLO), [
      200,
      "application/json; charset=utf-8",
      '{"value":"42"}',
    ]);
    assertEquals(await get(`${base}/healthz`), [
      200,
      "application/json; charset=utf-8",
      '{"status":"ok"}',
    ]);
    const missing = await get(base + HELLO.replace("hello", "nobody"));
    assertEquals(missing[0], 404);
    assertEquals(JSON.parse(missing[2]).error.type, "UnknownKeyOrNamespaceError");
    const batch = await fetch(`${base}/v1/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        queries: [
          {
            jobId: JOB,
            stateName: "word-counts",
            key: "world",
            keyType: "string",
            valueType: "long",
          },
          {
            jobId: JOB,
            stateName: "user-prefs",
            key: "7",
            keyType: "long",
            valueType: "double",
            stateKind: "map",
            mapKeyType: "string",
          },
        ],
      }),
      signal: AbortSignal.timeout(10_000),
    });
    assertEquals(await batch.json(), {
      results: [
        { value: "9007199254740993" },
        { value: [["volume", 0.8], ["speed", 1.25], ["theme", null]] },
      ],
    });
  } finally {
    await stopped(proxy);
  }
  // Nothing on stderr but the info-level log lines (no Deno.serve warning).
  assertEquals(proxy.stderr.filter((l) => !INFO_LOG_LINE.test(l)), [], proxy.stderr.join("\n"));
  assert(proxy.stderr.some((l) => / INFO server_started /.test(l)), proxy.stderr.join("\n"));
});

Deno.test("cli http: the demo serves HTTP on a free port and prints an explorer link that answers", async () => {
  const proxy = startCli(["proxy", "--port", "0"]);
  try {
    const base = await httpListening(proxy);
    const [, link] = await proxy.waitFor("stdout", /^explore: (\S+)$/);
    const url = new URL(link);
    assertEquals(url.origin, base);
    assertEquals(url.pathname, "/");
    assertEquals(Object.fromEntries(url.searchParams), {
      job: JOB,
      state: "word-counts",
      key: "hello",
      keyType: "string",
      valueType: "long",
    });
    const [status, type, page] = await get(link);
    assertEquals(status, 200, page);
    assert(type?.startsWith("text/html"), `the page is HTML: ${type}`);
    // What the page asks for, the value route answers.
    const q = url.searchParams;
    const value = await get(
      `${base}/v1/jobs/${q.get("job")}/states/${q.get("state")}?key=${q.get("key")}` +
        `&keyType=${q.get("keyType")}&valueType=${q.get("valueType")}`,
    );
    assertEquals([value[0], value[2]], [200, '{"value":"42"}']);
  } finally {
    await stopped(proxy);
  }
});

Deno.test("cli http: --http off turns the demo's HTTP side off", async () => {
  const off = startCli(["proxy", "--port", "0", "--http", "off"]);
  try {
    await binaryListening(off);
    await off.waitFor("stdout", /--value-type long$/);
  } finally {
    await stopped(off);
  }
  assert(!off.stdout.some((l) => l.startsWith("http listening on")), off.stdout.join("\n"));
  assert(!off.stdout.some((l) => l.startsWith("explore: ")), off.stdout.join("\n"));
});

Deno.test("cli http: gateway --proxy in front of our proxy answers a value; readyz follows the proxy", async () => {
  const proxy = startCli(["proxy", "--port", "0", "--http", "off"]);
  let gateway: CliProcess | undefined;
  try {
    const address = await binaryListening(proxy);
    gateway = startCli(["gateway", "--proxy", address, "--http", "127.0.0.1:0"]);
    const base = await httpListening(gateway);
    assert(gateway.stdout.includes(`gateway in front of the proxy at ${address}`));
    assertEquals(await get(base + HELLO), [
      200,
      "application/json; charset=utf-8",
      '{"value":"42"}',
    ]);
    const list = await get(
      `${base}/v1/jobs/${JOB}/states/recent-events?key=1&keyType=int&valueType=string&stateKind=list`,
    );
    assertEquals([list[0], list[2]], [200, '{"value":["login","view","logout"]}']);
    assertEquals((await get(`${base}/readyz`))[0], 200);
    await stopped(proxy);
    const notReady = await get(`${base}/readyz`);
    assertEquals([notReady[0], notReady[2]], [503, '{"status":"not ready"}']);
    assertEquals((await get(`${base}/healthz`))[0], 200);
    const down = await get(base + HELLO);
    assertEquals(down[0], 502, down[2]);
  } finally {
    await proxy.stop();
    if (gateway !== undefined) await stopped(gateway);
  }
});

Deno.test("cli http: the gateway's token and CORS flags, from flags and QS_* variables", async () => {
  const proxy = startCli(["proxy", "--port", "0", "--http", "off"]);
  let gateway: CliProcess | undefined;
  try {
    const address = await binaryListening(proxy);
    gateway = startCli(
      ["gateway", "--proxy", address, "--http", "127.0.0.1:0", "--cors-origin", "http://a.test"],
      { QS_HTTP_TOKEN: "s3cret" },
    );
    const base = await httpListening(gateway);
    const open = await fetch(base + HELLO, { signal: AbortSignal.timeout(10_000) });
    assertEquals(open.status, 401);
    await open.body?.cancel();
    const res = await fetch(base + HELLO, {
      headers: { authorization: "Bearer s3cret", origin: "http://a.test" },
      signal: AbortSignal.timeout(10_000),
    });
    assertEquals(res.headers.get("access-control-allow-origin"), "http://a.test");
    assertEquals([res.status, await res.text()], [200, '{"value":"42"}']);
  } finally {
    if (gateway !== undefined) await stopped(gateway);
    await stopped(proxy);
  }
});

Deno.test("cli http: SIGTERM stops the proxy with a watch stream open", async () => {
  const proxy = startCli(["proxy", "--port", "0", "--http", "127.0.0.1:0"]);
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    const base = await httpListening(proxy);
    const watch = await fetch(
      `${base}/v1/jobs/${JOB}/states/word-counts/watch?key=hello&keyType=string&valueType=long`,
      { signal: AbortSignal.timeout(15_000) },
    );
    assertEquals(watch.headers.get("content-type")?.startsWith("text/event-stream"), true);
    reader = watch.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert(first.includes('{"value":"42"}'), first);
    const t0 = Date.now();
    await stopped(proxy);
    assert(Date.now() - t0 < 8_000, `stopped in ${Date.now() - t0} ms`);
  } finally {
    await reader?.cancel().catch(() => {});
    await proxy.stop();
  }
});

Deno.test("cli http: usage errors and a taken HTTP port", async () => {
  const noProxy = await runCli(["gateway", "--http", "127.0.0.1:0"]);
  assertEquals(noProxy.code, 2);
  assert(noProxy.stderr.startsWith("--proxy is required\nusage: queryable-state gateway"));
  const badHttp = await runCli(["proxy", "--port", "0", "--http", "nowhere"]);
  assertEquals(badHttp.code, 2);
  assert(badHttp.stderr.startsWith('--http: expected HOST:PORT, got "nowhere"'), badHttp.stderr);
  const badProxy = await runCli(["gateway", "--proxy", "9069"]);
  assertEquals(badProxy.code, 2);
  assert(badProxy.stderr.startsWith("--proxy: "), badProxy.stderr);

  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const proxy = await runCli(["proxy", "--port", "0", "--http", `127.0.0.1:${port}`]);
    assertEquals(proxy.code, 1, proxy.stdout);
    assert(proxy.stderr.includes(`http: cannot listen on 127.0.0.1:${port}`), proxy.stderr);
    const gateway = await runCli([
      "gateway",
      "--proxy",
      "127.0.0.1:9",
      "--http",
      `127.0.0.1:${port}`,
    ]);
    assertEquals(gateway.code, 1);
    assert(gateway.stderr.includes(`http: cannot listen on 127.0.0.1:${port}`), gateway.stderr);
  } finally {
    taken.close();
  }

  const help = await runCli(["gateway", "--help"]);
  assertEquals(help.code, 0);
  assert(help.stdout.startsWith("usage: queryable-state gateway --proxy HOST:PORT"), help.stdout);
  for (const v of ["QS_PROXY", "QS_HTTP", "QS_HTTP_TOKEN", "QS_CORS_ORIGIN", "QS_DEADLINE_MS"]) {
    assert(help.stdout.includes(`env: ${v}`), v);
  }
  const proxyHelp = await runCli(["proxy", "--help"]);
  assert(proxyHelp.stdout.includes("env: QS_HTTP;") || proxyHelp.stdout.includes("env: QS_HTTP"));
});
