/** The gateway's route table. */

import { type Route, RouteTable } from "../../src/http/mod.ts";
import { assertEquals, assertThrows } from "../_assert.ts";

const h = (name: string): Route["handle"] => () => new Response(name);

Deno.test("RouteTable: literal and parameter segments, methods, order", () => {
  const t = new RouteTable()
    .add({ method: "GET", path: "/a/{x}", handle: h("get") })
    .add({ method: "POST", path: "/a/{x}", handle: h("post") })
    .add({ method: "GET", path: "/a/{x}/b", handle: h("b") })
    .add({ method: "GET", path: "/", handle: h("root") });
  const m = t.match("GET", "/a/1");
  assertEquals(m.kind === "route" ? [m.params, m.route.path] : null, [{ x: "1" }, "/a/{x}"]);
  const p = t.match("POST", "/a/%2F");
  assertEquals(p.kind === "route" ? p.params : null, { x: "/" });
  assertEquals(t.match("GET", "/").kind, "route");
  assertEquals(t.match("PUT", "/a/1"), { kind: "method", allow: ["GET", "POST"] });
  assertEquals(
    t.match("GET", "/a/"),
    { kind: "none" },
    "an empty parameter segment does not match",
  );
  assertEquals(t.match("GET", "/a/1/b/c"), { kind: "none" });
  assertEquals(t.match("GET", "/A/1"), { kind: "none" });
  const bad = t.match("GET", "/a/%E0%A4%A");
  assertEquals(bad.kind === "route" ? bad.params : undefined, null);
  assertEquals(t.routes.length, 4);
  assertThrows(() => t.add({ method: "GET", path: "x", handle: h("x") }), TypeError);
});
