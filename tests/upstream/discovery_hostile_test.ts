/**
 * FlinkRestDiscovery against a hostile or odd REST API and a failing
 * consumer: the same host listed thousands of times, IPv6 hosts in the RPC
 * paths, a port range of every port, an onMembers that throws (the list is
 * delivered again on the next refresh, not lost).
 */

import { assertEquals, assertThrows } from "../_assert.ts";
import type { NetAddress } from "../../src/transport/types.ts";
import { denoTransport } from "../../src/transport/deno.ts";
import { FlinkRestDiscovery } from "../../src/upstream/flink_rest_discovery.ts";
import { PortRangeError } from "../../src/upstream/port_range.ts";
import { taskManagerInfo } from "./_fake_flink_rest.ts";

const text = (ms: readonly NetAddress[]): string[] => ms.map((m) => `${m.hostname}:${m.port}`);

function serving(taskmanagers: unknown[]): typeof fetch {
  return () => Promise.resolve(Response.json({ taskmanagers }));
}

Deno.test("discovery: one host listed 5000 times (distinct TaskManager ids) is one member", async () => {
  // Only id and path (the full TaskManagerInfo of 5000 passes the 1 MiB body bound).
  const list = Array.from({ length: 5000 }, (_, i) => {
    const { id, path } = taskManagerInfo(
      { host: "10.1.2.3", rpcPort: 6122 + (i % 7), index: i },
      i,
    );
    return { id, path };
  });
  await using discovery = new FlinkRestDiscovery("http://jm:8081", { fetch: serving(list) });
  assertEquals(text(await discovery.refresh()), ["10.1.2.3:9069"]);
});

Deno.test("discovery: IPv6 hosts in the RPC paths are members with bare hostnames, deduplicated", async () => {
  const list = [
    taskManagerInfo({ host: "fd00::7" }, 0),
    taskManagerInfo({ host: "fd00::7", rpcPort: 6123 }, 1),
    taskManagerInfo({ host: "::1" }, 2),
  ];
  await using discovery = new FlinkRestDiscovery("http://[::1]:8081", { fetch: serving(list) });
  assertEquals(text(await discovery.refresh()), ["::1:9069", "fd00::7:9069"]);
});

Deno.test("discovery: a port range of every port is refused by maxPortsPerRange, before any probe", () => {
  const e = assertThrows(
    () =>
      new FlinkRestDiscovery("http://jm:8081", {
        proxyPort: "1-65535",
        transport: denoTransport,
      }),
    PortRangeError,
  );
  assertEquals(e.tooLarge, true);
});

Deno.test("discovery: a list onMembers failed to take is delivered again on the next refresh", async () => {
  const delivered: string[][] = [];
  let refuse = true;
  await using discovery = new FlinkRestDiscovery("http://jm:8081", {
    fetch: serving([taskManagerInfo({ host: "10.0.0.5" }, 0)]),
    onMembers: (members) => {
      delivered.push(text(members));
      if (refuse) throw new RangeError("more than maxMembers");
    },
  });
  await discovery.refresh();
  refuse = false;
  await discovery.refresh();
  // Taken now: an unchanged list is not reported again.
  await discovery.refresh();
  assertEquals(delivered, [["10.0.0.5:9069"], ["10.0.0.5:9069"]]);
});

Deno.test("discovery: user information in the URL goes in a Basic authorization header, not the fetched URL (fetch refuses it)", async () => {
  const seen: Array<[string, string | null]> = [];
  // As fetch does in Node, browsers and workers (the WHATWG Fetch standard).
  const strictFetch: typeof fetch = (input, init) => {
    const url = new URL(String(input));
    if (url.username !== "" || url.password !== "") {
      return Promise.reject(
        new TypeError("Request cannot be constructed from a URL that includes credentials"),
      );
    }
    seen.push([url.href, new Headers(init?.headers).get("authorization")]);
    return Promise.resolve(
      Response.json({ taskmanagers: [taskManagerInfo({ host: "10.0.0.5" }, 0)] }),
    );
  };
  await using plain = new FlinkRestDiscovery("https://u:p@gateway.example/flink", {
    fetch: strictFetch,
  });
  assertEquals(text(await plain.refresh()), ["10.0.0.5:9069"]);
  await using encoded = new FlinkRestDiscovery("http://us%40er:p%C3%A4ss@jm:8081", {
    fetch: strictFetch,
  });
  await encoded.refresh();
  await using own = new FlinkRestDiscovery("http://u:p@jm:8081", {
    fetch: strictFetch,
    headers: { authorization: "Bearer t" },
  });
  await own.refresh();
  const utf8 = String.fromCharCode(...new TextEncoder().encode("us@er:päss"));
  assertEquals(seen, [
    ["https://gateway.example/flink/taskmanagers", `Basic ${btoa("u:p")}`],
    ["http://jm:8081/taskmanagers", `Basic ${btoa(utf8)}`],
    ["http://jm:8081/taskmanagers", "Bearer t"],
  ]);
  assertEquals(plain.url, "https://gateway.example/flink/taskmanagers");
});
