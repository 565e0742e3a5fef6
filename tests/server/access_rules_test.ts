import {
  accessFilter,
  type AccessRequest,
  type AccessRule,
  AccessRulesError,
  Cidr,
  IpAddress,
  JobId,
  parseAccessRules,
} from "../../mod.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";

const JOB = "0102030405060708a1a2a3a4a5a6a7a8";
const OTHER_JOB = "ffffffffffffffffffffffffffffffff";

function req(hostname: string, job?: string, stateName?: string): AccessRequest {
  return {
    remoteAddress: { hostname, port: 40000 },
    jobId: job === undefined ? undefined : JobId.fromHex(job),
    stateName,
  };
}

/** The line and message of the error a text gives. */
function failure(text: string, options?: Parameters<typeof parseAccessRules>[1]) {
  const e = assertThrows(() => parseAccessRules(text, options), AccessRulesError);
  assertEquals(e.name, "AccessRulesError");
  assert(e instanceof TypeError);
  return { line: e.line, message: e.message };
}

// --- Cidr and IpAddress -------------------------------------------------------

Deno.test("Cidr: IPv4 blocks and bare addresses", () => {
  const b = Cidr.parse("10.0.0.0/8");
  assertEquals([b.address, b.prefixLength, b.family, b.toString()], [
    "10.0.0.0",
    8,
    4,
    "10.0.0.0/8",
  ]);
  assert(b.contains("10.0.0.0"));
  assert(b.contains("10.255.255.255"));
  assert(!b.contains("11.0.0.0"));
  assert(!b.contains("9.255.255.255"));
  const one = Cidr.parse("192.168.1.7");
  assertEquals(one.toString(), "192.168.1.7/32");
  assert(one.contains("192.168.1.7"));
  assert(!one.contains("192.168.1.6"));
  assert(!one.contains("192.168.1.8"));
  const all = Cidr.parse("0.0.0.0/0");
  assert(all.contains("1.2.3.4"));
  assert(all.contains("255.255.255.255"));
  assert(all.contains("::ffff:1.2.3.4"), "an IPv4-mapped peer is an IPv4 peer");
  assert(!all.contains("::1"), "0.0.0.0/0 covers IPv4 only");
  assert(!all.contains("2001:db8::1"));
  // Odd prefixes: the mask crosses byte boundaries.
  const odd = Cidr.parse("172.16.0.0/12");
  assert(odd.contains("172.31.255.255"));
  assert(!odd.contains("172.32.0.0"));
  assert(!odd.contains("172.15.255.255"));
  const top = Cidr.parse("128.0.0.0/1");
  assert(top.contains("200.1.1.1"));
  assert(!top.contains("127.255.255.255"));
});

Deno.test("Cidr: IPv6 blocks, compression forms, embedded IPv4", () => {
  const b = Cidr.parse("2001:db8::/32");
  assertEquals([b.family, b.prefixLength], [6, 32]);
  assert(b.contains("2001:db8::1"));
  assert(b.contains("2001:DB8:ffff:ffff:ffff:ffff:ffff:ffff"));
  assert(b.contains("2001:0db8:0000:0000:0000:0000:0000:0001"));
  assert(!b.contains("2001:db9::"));
  assert(!b.contains("10.0.0.1"));
  const lo = Cidr.parse("::1");
  assertEquals(lo.toString(), "::1/128");
  assert(lo.contains("::1"));
  assert(lo.contains("0:0:0:0:0:0:0:1"));
  assert(!lo.contains("::2"));
  assert(!lo.contains("127.0.0.1"), "IPv6 loopback is not IPv4 loopback");
  const mid = Cidr.parse("fe80::/10");
  assert(mid.contains("fe80::1%eth0"), "a peer's zone is ignored");
  assert(mid.contains("febf:ffff::"));
  assert(!mid.contains("fec0::"));
  const w = Cidr.parse("1:2:3:4:5:6:7:8/127");
  assert(w.contains("1:2:3:4:5:6:7:9"));
  assert(!w.contains("1:2:3:4:5:6:7:a"));
  const tail = Cidr.parse("64:ff9b::192.0.2.0/120");
  assert(tail.contains("64:ff9b::c000:2ff"));
  assert(!tail.contains("64:ff9b::c000:300"));
  assert(Cidr.parse("::/0").contains("1.2.3.4"), "::/0 covers every address, IPv4 included");
  assert(Cidr.parse("1::").contains("1:0:0:0:0:0:0:0"));
  assert(Cidr.parse("1::8").contains("1:0:0:0:0:0:0:8"));
});

Deno.test("Cidr: IPv4-mapped peers match IPv4 blocks, and mapped blocks match IPv4 peers", () => {
  const v4 = Cidr.parse("127.0.0.0/8");
  assert(v4.contains("::ffff:127.0.0.1"));
  assert(v4.contains("::FFFF:7f00:1"), "the hex form of a mapped address too");
  assert(v4.contains("0:0:0:0:0:ffff:127.1.2.3"));
  assert(!v4.contains("::ffff:128.0.0.1"));
  assert(!v4.contains("::127.0.0.1"), "IPv4-compatible (not mapped) is IPv6");
  assert(!v4.contains("::fffe:127.0.0.1"));
  const mapped = Cidr.parse("::ffff:10.0.0.0/104");
  assertEquals(mapped.family, 6);
  assert(mapped.contains("10.9.9.9"));
  assert(mapped.contains("::ffff:10.9.9.9"));
  assert(!mapped.contains("11.0.0.0"));
});

Deno.test("Cidr: bad blocks are refused with a TypeError naming the problem", () => {
  const cases: Array<[string, string]> = [
    ["", "no address"],
    ["10.0.0.0/", "the prefix length must be 0..32"],
    ["10.0.0.0/33", "the prefix length must be 0..32"],
    ["10.0.0.0/08", "the prefix length must be 0..32"],
    ["10.0.0.0/-1", "the prefix length must be 0..32"],
    ["10.0.0.0/8/8", "the prefix length must be 0..32"],
    ["::/129", "the prefix length must be 0..128"],
    ["::/1000", "the prefix length must be 0..128"],
    ["10.0.0.256", "not an IPv4 address"],
    ["10.0.0", "not an IPv4 address"],
    ["10.0.0.0.0", "not an IPv4 address"],
    ["010.0.0.1", "no leading zeros"],
    ["10.0.0.x", "not an IPv4 address"],
    ["10..0.1", "not an IPv4 address"],
    ["localhost", "not an IPv4 address"],
    ["1:2:3:4:5:6:7", "not an IPv6 address"],
    ["1:2:3:4:5:6:7:8:9", "not an IPv6 address"],
    ["1::2::3", "not an IPv6 address"],
    ["1:2:3:4::5:6:7:8", "not an IPv6 address"],
    [":1:2:3:4:5:6:7", "not an IPv6 address"],
    ["1:2:3:4:5:6:7:", "not an IPv6 address"],
    ["12345::", "not an IPv6 address"],
    ["g::", "not an IPv6 address"],
    ["1.2.3.4::", "not an IPv6 address"],
    ["::1.2.3", "not an IPv6 address"],
    ["::1.2.3.4:5", "not an IPv6 address"],
    ["fe80::1%eth0", "not an IPv6 address"],
    ["[::1]", "not an IPv6 address"],
    ["a".repeat(65), "longer than 64 characters"],
    ["10.1.0.0/8", "bits are set past the prefix (the block is 10.0.0.0/8)"],
    ["192.168.1.5/24", "(the block is 192.168.1.0/24)"],
    ["2001:db8::1/32", "(the block is 2001:db8:0:0:0:0:0:0/32)"],
  ];
  for (const [text, problem] of cases) {
    const e = assertThrows(() => Cidr.parse(text), TypeError);
    assert(e.message.includes(problem), `${text}: ${e.message}`);
    assert(e.message.startsWith("Not an address block"), e.message);
  }
});

Deno.test("IpAddress: peers' address forms; host names are not addresses", () => {
  assertEquals(IpAddress.parse("10.1.2.3")?.toString(), "10.1.2.3");
  assertEquals(IpAddress.parse("[::1]")?.toString(), "[::1]");
  assert(Cidr.parse("::1").contains(IpAddress.parse("[::1]")!));
  assert(Cidr.parse("fe80::/64").contains(IpAddress.parse("fe80::1%25")!));
  for (const host of ["localhost", "memory", "", "[]", "1.2.3.4%x", "::g"]) {
    assertEquals(IpAddress.parse(host), null, host);
    assert(!Cidr.parse("::/0").contains(host), host);
  }
});

// --- parseAccessRules -----------------------------------------------------------

Deno.test("parseAccessRules: clauses in any order, wildcards, comments, blank lines, CRLF", () => {
  const rules = parseAccessRules(
    [
      "# header comment",
      "",
      `job ${JOB}  state word-counts  from 10.0.0.0/8`,
      "   \t  ",
      "from ::1\tjob *\tstate *   # trailing comment",
      `state a#b job ${JOB.toUpperCase()} from *`,
      "  #job * state * from *",
      "job * state * from 2001:db8::/32\r",
      "",
    ].join("\n"),
  );
  assertEquals(rules.length, 4);
  assertEquals(rules.map((r) => r.line), [3, 5, 6, 8]);
  assertEquals(rules[0].jobId?.toString(), JOB);
  assertEquals(rules[0].stateName, "word-counts");
  assertEquals(rules[0].from?.toString(), "10.0.0.0/8");
  assertEquals(rules[1].jobId, undefined);
  assertEquals(rules[1].stateName, undefined);
  assertEquals(rules[1].from?.toString(), "::1/128");
  assertEquals(
    "jobId" in rules[1] || "stateName" in rules[1],
    false,
    "wildcards leave clauses out",
  );
  assertEquals(rules[2].jobId?.toString(), JOB, "upper-case hex is accepted");
  assertEquals(rules[2].stateName, "a#b", "a # inside a word is part of it");
  assertEquals(rules[2].from, undefined);
  assertEquals(rules[3].from?.toString(), "2001:db8::/32", "the CR of a CRLF line is dropped");
  assertEquals(parseAccessRules(""), []);
  assertEquals(parseAccessRules("# nothing\n\n  # at all\n"), []);
  assertEquals(parseAccessRules("job * state * from *").length, 1, "no final newline");
});

Deno.test("parseAccessRules: every malformed line is refused, naming the line and the problem", () => {
  const cases: Array<[string, string]> = [
    [
      "job *  state *",
      "the from clause is missing (a rule is: job JOBID|*  state NAME|*  from CIDR|*)",
    ],
    ["state * from *", "the job clause is missing"],
    ["job * from *", "the state clause is missing"],
    ["job * state * from", "the from clause has no value"],
    ["job", "the job clause has no value"],
    ["job * state * from * job *", "the job clause is repeated"],
    ["job * state * state x from *", "the state clause is repeated"],
    ["job * state * from * extra", 'unknown clause "extra" (expected job, state and from)'],
    ["Job * state * from *", 'unknown clause "Job"'],
    ["allow job * state * from *", 'unknown clause "allow"'],
    ["job nope state * from *", 'job: expected a job id (32 hex characters) or *, got "nope"'],
    [`job ${JOB}0 state * from *`, "job: expected a job id (32 hex characters) or *"],
    [`job ${JOB.slice(1)}g state * from *`, "job: expected a job id"],
    ["job * state * from 10.0.0.0/40", 'from: Not an address block: "10.0.0.0/40": the prefix'],
    ["job * state * from localhost", 'from: Not an address block: "localhost"'],
    ["job * state * from 10.0.0.1/8", "bits are set past the prefix"],
  ];
  for (const [bad, problem] of cases) {
    const text = `# ok so far\njob * state * from *\n\n${bad}\njob * state * from *\n`;
    const f = failure(text);
    assertEquals(f.line, 4, bad);
    assert(f.message.startsWith("Access rules line 4: "), f.message);
    assert(f.message.includes(problem), `${bad}: ${f.message}`);
  }
  // The message in the JSDoc example, exactly.
  assertEquals(
    failure("job *  state *  from *\njob nope  state *  from *\n").message,
    'Access rules line 2: job: expected a job id (32 hex characters) or *, got "nope"',
  );
});

Deno.test("parseAccessRules: bounds on the text, each line and the number of rules", () => {
  const rule = "job * state * from *\n";
  // maxLength: the whole text, line 0.
  const long = failure(rule.repeat(10), { maxLength: rule.length * 10 - 1 });
  assertEquals(long.line, 0);
  assertEquals(
    long.message,
    `Access rules: the text has 210 characters, more than the 209 allowed`,
  );
  assertEquals(parseAccessRules(rule.repeat(10), { maxLength: rule.length * 10 }).length, 10);
  // The default: 1 MiB.
  assertEquals(failure(" ".repeat(1_048_577)).line, 0);
  // maxLineLength: names the line, counts comments too.
  const wide = failure(`${rule}${rule}# ${"x".repeat(40)}\n`, { maxLineLength: 40 });
  assertEquals(wide.line, 3);
  assertEquals(
    wide.message,
    "Access rules line 3: the line has 42 characters, more than the 40 allowed",
  );
  assertEquals(parseAccessRules(`# ${"x".repeat(38)}\n`, { maxLineLength: 40 }), []);
  assertEquals(failure(`${"#".repeat(1025)}\n`).line, 1, "default 1024 characters a line");
  assertEquals(parseAccessRules(`${"#".repeat(1024)}\n`), []);
  // maxRules: names the first line past it; comments and blanks do not count.
  const many = failure(`${rule}# c\n\n${rule}${rule}`, { maxRules: 2 });
  assertEquals(many.line, 5);
  assertEquals(many.message, "Access rules line 5: more than the 2 rules allowed");
  assertEquals(parseAccessRules(rule.repeat(10_000)).length, 10_000, "default 10,000 rules");
  assertEquals(failure(rule.repeat(10_001)).line, 10_001);
});

// --- accessFilter -------------------------------------------------------------------

Deno.test("accessFilter: an allow list; a request passes when one rule matches all three clauses", () => {
  const allow = accessFilter(parseAccessRules(`
    job ${JOB}  state word-counts  from 10.0.0.0/8
    job *       state user-prefs   from 192.168.1.7
    job ${OTHER_JOB} state *       from 2001:db8::/32
  `));
  assertEquals(allow(req("10.1.2.3", JOB, "word-counts")), true);
  assertEquals(allow(req("10.1.2.3", OTHER_JOB, "word-counts")), false, "other job");
  assertEquals(allow(req("10.1.2.3", JOB, "word-count")), false, "other state");
  assertEquals(allow(req("11.1.2.3", JOB, "word-counts")), false, "other peer");
  assertEquals(allow(req("192.168.1.7", JOB, "user-prefs")), true);
  assertEquals(allow(req("192.168.1.7", OTHER_JOB, "user-prefs")), true, "job *");
  assertEquals(allow(req("192.168.1.8", OTHER_JOB, "user-prefs")), false);
  assertEquals(allow(req("192.168.1.7", JOB, "word-counts")), false, "clauses of one rule only");
  assertEquals(allow(req("2001:db8::5", OTHER_JOB, "anything")), true, "state *");
  assertEquals(allow(req("2001:db9::5", OTHER_JOB, "anything")), false);
});

Deno.test("accessFilter: IPv4-mapped peers match IPv4 rules; IPv6 rules; host names match only from *", () => {
  const allow = accessFilter(
    parseAccessRules("job * state * from 127.0.0.0/8\njob * state s from ::1"),
  );
  assertEquals(allow(req("127.0.0.1")), true);
  assertEquals(allow(req("::ffff:127.0.0.1")), true, "mapped");
  assertEquals(allow(req("::ffff:7f00:2")), true, "mapped, hex form");
  assertEquals(allow(req("::ffff:10.0.0.1")), false);
  assertEquals(allow(req("::1", undefined, "s")), true);
  assertEquals(allow(req("[::1]", undefined, "s")), true, "bracketed");
  assertEquals(allow(req("::1", undefined, "t")), false);
  assertEquals(allow(req("localhost")), false, "a host name is in no block");
  assertEquals(allow(req("memory")), false);
  const any = accessFilter(parseAccessRules("job * state * from *"));
  assertEquals(any(req("memory")), true, "from * matches peers without an IP address");
  assertEquals(any(req("10.0.0.1", JOB, "x")), true);
});

Deno.test("accessFilter: a request that does not know its job or state matches only open clauses", () => {
  const allow = accessFilter(parseAccessRules(`job ${JOB} state * from *\njob * state s from *`));
  assertEquals(allow(req("10.0.0.1", JOB)), true, "state * with no state name");
  assertEquals(allow(req("10.0.0.1")), false, "no job: the job rule does not match");
  assertEquals(allow(req("10.0.0.1", undefined, "s")), true, "job * with no job");
  assertEquals(
    allow(req("10.0.0.1", OTHER_JOB)),
    false,
    "no state name: the state rule does not match",
  );
});

Deno.test("accessFilter: no rules refuse everything; programmatic rules; the rules are copied", () => {
  const none = accessFilter([]);
  assertEquals(none(req("127.0.0.1", JOB, "s")), false);
  const rules: AccessRule[] = [{ stateName: "s" }];
  const allow = accessFilter(rules);
  rules.length = 0;
  rules.push({ stateName: "t" });
  assertEquals(allow(req("1.2.3.4", JOB, "s")), true, "later edits to the array do not change it");
  assertEquals(allow(req("1.2.3.4", JOB, "t")), false);
  const byJob = accessFilter([{ jobId: JobId.fromHex(JOB), from: Cidr.parse("10.0.0.0/8") }]);
  assertEquals(byJob(req("10.0.0.1", JOB, "x")), true);
  assertEquals(byJob(req("10.0.0.1", OTHER_JOB, "x")), false);
});

Deno.test("accessFilter: rules for the request's state and rules open on the state both count", () => {
  const allow = accessFilter(parseAccessRules(
    "job * state s from 10.0.0.0/8\njob * state * from 127.0.0.1\njob * state constructor from *",
  ));
  assertEquals(allow(req("10.0.0.1", JOB, "s")), true, "the state's own rule");
  assertEquals(allow(req("127.0.0.1", JOB, "s")), true, "its rule fails, the open rule matches");
  assertEquals(allow(req("192.168.0.1", JOB, "s")), false, "neither");
  assertEquals(allow(req("127.0.0.1", JOB, "t")), true, "no rule names t: the open rule");
  assertEquals(allow(req("10.0.0.1", JOB, "t")), false);
  assertEquals(allow(req("10.0.0.1", JOB, "constructor")), true, "names are plain keys");
  assertEquals(allow(req("10.0.0.1", JOB, "__proto__")), false);
  assertEquals(allow(req("10.0.0.1", JOB, "toString")), false);
});

Deno.test("accessFilter: many peers (past the parsed-address cache) are all decided right", () => {
  const allow = accessFilter(parseAccessRules("job * state * from 10.0.0.0/24"));
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 600; i++) {
      const host = `10.0.${i >> 8}.${i & 255}`;
      assertEquals(allow(req(host)), i < 256, host);
    }
  }
});
