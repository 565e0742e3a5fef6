/**
 * The parts of the proxy pool: address parsing, the probe backoff, the
 * member choice, the failover verdict.
 */

import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { backoffDelay } from "../../src/upstream/backoff.ts";
import { chooseMember } from "../../src/upstream/member_choice.ts";
import { verdictOf } from "../../src/upstream/attempt_verdict.ts";
import { DEFAULT_PROXY_PORT, parseProxyAddresses } from "../../src/upstream/proxy_addresses.ts";
import {
  ClosedError,
  ConnectError,
  ConnectionClosedError,
  DeadlineExceededError,
  FrameLengthError,
  ProtocolError,
  RequestQueueFullError,
  UnknownKeyOrNamespaceError,
  withSerializedThrowable,
} from "../../src/wire/errors.ts";

Deno.test("parseProxyAddresses: host, host:port, [v6], [v6]:port, lists, objects, duplicates", () => {
  assertEquals(DEFAULT_PROXY_PORT, 9069);
  assertEquals(parseProxyAddresses("tm-1"), [{ hostname: "tm-1", port: 9069 }]);
  assertEquals(parseProxyAddresses("10.0.0.1:9070"), [{ hostname: "10.0.0.1", port: 9070 }]);
  assertEquals(parseProxyAddresses("[::1]"), [{ hostname: "::1", port: 9069 }]);
  assertEquals(parseProxyAddresses("[fe80::1]:1"), [{ hostname: "fe80::1", port: 1 }]);
  assertEquals(parseProxyAddresses(" a:1 ,, b ,a:1"), [
    { hostname: "a", port: 1 },
    { hostname: "b", port: 9069 },
  ]);
  assertEquals(parseProxyAddresses(["a:1,b:2", { hostname: "c", port: 3 }, "b:2"], 7), [
    { hostname: "a", port: 1 },
    { hostname: "b", port: 2 },
    { hostname: "c", port: 3 },
  ]);
  assertEquals(parseProxyAddresses({ hostname: "x", port: 5 }), [{ hostname: "x", port: 5 }]);
  assertEquals(parseProxyAddresses("h", 1234), [{ hostname: "h", port: 1234 }]);
  for (const bad of ["", " , ", "a:0", "a:65536", "::1", "a:b:c", "[::1", "a b", "a:", ":9069"]) {
    assertThrows(() => parseProxyAddresses(bad), TypeError, undefined);
  }
  assertThrows(() => parseProxyAddresses({ hostname: "", port: 1 }), TypeError);
  assertThrows(() => parseProxyAddresses({ hostname: "a", port: 1.5 }), TypeError);
  assertThrows(() => parseProxyAddresses([]), TypeError, "no proxy address");
  const many = Array.from({ length: 1025 }, (_, i) => `h${i}`).join(",");
  assertThrows(() => parseProxyAddresses(many), RangeError, "1024");
});

Deno.test("backoffDelay: 250 ms doubling to the cap, drawn between half and all of it", () => {
  assertEquals([0, 1, 2, 3, 4, 5, 6, 40].map((n) => backoffDelay(n, 250, 10_000, () => 0.999999)), [
    250,
    500,
    1000,
    2000,
    4000,
    8000,
    10_000,
    10_000,
  ]);
  assertEquals(backoffDelay(0, 250, 10_000, () => 0), 125);
  assertEquals(backoffDelay(2, 250, 10_000, () => 0.5), 750);
  for (let i = 0; i < 100; i++) {
    const d = backoffDelay(3, 250, 10_000);
    assert(d >= 1000 && d <= 2000, `${d}`);
  }
  assertEquals(backoffDelay(0, 0.1, 1, () => 0), 1);
});

Deno.test("chooseMember: fewest outstanding among up members, ties in turn from the cursor, down ones last", () => {
  const m = (up: boolean, outstanding: number) => ({ up, outstanding });
  const [a, b, c] = [m(true, 0), m(true, 0), m(true, 0)];
  const all = [a, b, c];
  assertEquals([0, 1, 2, 3, 4].map((from) => all.indexOf(chooseMember(all, from, [])!)), [
    0,
    1,
    2,
    0,
    1,
  ]);
  b.outstanding = 0;
  a.outstanding = 3;
  c.outstanding = 1;
  assert(chooseMember(all, 0, []) === b);
  assert(chooseMember(all, 2, [b]) === c);
  const down = m(false, 0);
  assert(chooseMember([down, a], 0, []) === a, "an up member, even busier, before a down one");
  assert(chooseMember([down, a], 0, [a]) === down);
  assertEquals(chooseMember([down, a], 0, [a, down]), undefined);
  assertEquals(chooseMember([], 5, []), undefined);
});

Deno.test("verdictOf: answers are final, no answer fails over (and takes the member out unless its queue was full)", () => {
  const answered = withSerializedThrowable(
    new ConnectError("a remote ConnectException"),
    new Uint8Array([1]),
  );
  assertEquals(verdictOf(answered, true), "answer");
  assertEquals(
    verdictOf(
      withSerializedThrowable(new UnknownKeyOrNamespaceError("x"), new Uint8Array([1])),
      false,
    ),
    "answer",
  );
  assertEquals(verdictOf(new ConnectError("refused"), false), "down");
  assertEquals(verdictOf(new ConnectionClosedError("closed"), false), "down");
  assertEquals(verdictOf(new ProtocolError("garbage"), false), "down");
  assertEquals(verdictOf(new FrameLengthError(1 << 30, 1 << 26), false), "elsewhere");
  assertEquals(verdictOf(new DeadlineExceededError("attempt"), true), "down");
  assertEquals(verdictOf(new DeadlineExceededError("request"), false), "final");
  assertEquals(verdictOf(new RequestQueueFullError("full"), false), "elsewhere");
  assertEquals(verdictOf(new ClosedError("closed"), false), "final");
  assertEquals(verdictOf(new TypeError("bug"), false), "final");
});
