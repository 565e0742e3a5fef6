/**
 * Access rules: an allow list of (job, state, peer block) triples, its text
 * form, and the {@linkcode RequestFilter} it makes.
 *
 * The text form has one rule a line, three clauses each, in any order:
 *
 * ```text
 * # who may query what
 * job 0102030405060708a1a2a3a4a5a6a7a8  state word-counts  from 10.0.0.0/8
 * job *                                  state *            from 127.0.0.1
 * state user-prefs  job *  from 2001:db8::/32
 * ```
 *
 * - `job` is a job id (32 hex characters, either case) or `*` for any job;
 * - `state` is a state name (any text without blanks, not starting with
 *   `#`) or `*` for any state;
 * - `from` is an IPv4 or IPv6 address or CIDR block (a bare address is a
 *   block of one) or `*` for any peer. IPv4 blocks also match IPv4-mapped
 *   IPv6 peers (`::ffff:a.b.c.d`), see {@linkcode Cidr}.
 *
 * Words are separated by spaces or tabs; a word starting with `#` starts a
 * comment that runs to the end of the line; blank and comment-only lines are
 * ignored.
 *
 * @module
 */

import { JobId } from "../wire/ids.ts";
import type { AccessRequest, RequestFilter } from "./access_control.ts";
import { Cidr, IpAddress } from "./cidr.ts";

/**
 * One allow rule: a request is allowed when its job, its state name and its
 * peer's address all match. An absent clause matches anything (`*` in the
 * text form). A request that does not know its job or state name (a state
 * server whose state was registered without them) matches only rules that
 * leave that clause open.
 *
 * @example
 * ```ts
 * import { type AccessRule, Cidr } from "@kvstate/queryable-state";
 *
 * const rule: AccessRule = { stateName: "word-counts", from: Cidr.parse("10.0.0.0/8") };
 * rule.from?.toString(); // => "10.0.0.0/8"
 * ```
 */
export interface AccessRule {
  /** The job; absent for any job. */
  readonly jobId?: JobId;
  /** The state name; absent for any state. */
  readonly stateName?: string;
  /** The peers' block; absent for any peer (including peers without an IP address). */
  readonly from?: Cidr;
  /** The line of the rules text it came from (1-based), for messages. */
  readonly line?: number;
}

/** Bounds of {@linkcode parseAccessRules}. */
export interface AccessRulesOptions {
  /** The most characters the whole text may have. Default 1,048,576 (1 Mi). */
  readonly maxLength?: number;
  /** The most characters one line may have. Default 1024. */
  readonly maxLineLength?: number;
  /** The most rules (non-blank, non-comment lines). Default 10,000. */
  readonly maxRules?: number;
}

const DEFAULT_MAX_LENGTH = 1_048_576;
const DEFAULT_MAX_LINE_LENGTH = 1024;
const DEFAULT_MAX_RULES = 10_000;
const CLAUSES = ["job", "state", "from"] as const;

/**
 * Rules text that does not parse, or goes past a bound. The message names
 * the line and the problem; `line` is 0 when the whole text is at fault
 * (too long).
 *
 * @example
 * ```ts
 * import { AccessRulesError, parseAccessRules } from "@kvstate/queryable-state";
 *
 * try {
 *   parseAccessRules("job *  state *  from *\njob nope  state *  from *\n");
 * } catch (e) {
 *   (e as AccessRulesError).line; // => 2
 *   (e as AccessRulesError).message;
 *   // => 'Access rules line 2: job: expected a job id (32 hex characters) or *, got "nope"'
 * }
 * ```
 */
export class AccessRulesError extends TypeError {
  /** The 1-based line at fault, or 0 for the whole text. */
  readonly line: number;

  /**
   * Creates the error.
   *
   * @param line The 1-based line, or 0 for the whole text.
   * @param problem What is wrong.
   */
  constructor(line: number, problem: string) {
    super(line === 0 ? `Access rules: ${problem}` : `Access rules line ${line}: ${problem}`);
    this.line = line;
  }

  /** The class name, as `Error.prototype.name` reports it. */
  override get name(): string {
    return "AccessRulesError";
  }
}

/**
 * Parses the text form of an allow list (see the module documentation):
 * lines `job JOBID|*  state NAME|*  from CIDR|*`, the three clauses in any
 * order, each exactly once; `#` comments and blank lines ignored. Empty text
 * gives no rules, which allow nothing.
 *
 * @example
 * ```ts
 * import { parseAccessRules } from "@kvstate/queryable-state";
 *
 * const rules = parseAccessRules(`
 *   # the dashboard reads the counts
 *   job *  state word-counts  from 10.1.0.0/16
 *   from ::1  state *  job 0102030405060708A1A2A3A4A5A6A7A8   # local admin
 * `);
 * rules.length; // => 2
 * rules[0].jobId; // => undefined
 * rules[1].jobId?.toString(); // => "0102030405060708a1a2a3a4a5a6a7a8"
 * rules[1].from?.toString(); // => "::1/128"
 * rules[1].line; // => 4
 * ```
 *
 * @param text The rules text.
 * @param options Bounds.
 * @returns The rules, in order.
 * @throws {AccessRulesError} Naming the line and the problem: an unknown,
 * repeated, missing or valueless clause, a bad job id or address block, or a
 * bound passed.
 */
export function parseAccessRules(text: string, options: AccessRulesOptions = {}): AccessRule[] {
  const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  const maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  const maxRules = options.maxRules ?? DEFAULT_MAX_RULES;
  if (text.length > maxLength) {
    throw new AccessRulesError(
      0,
      `the text has ${text.length} characters, more than the ${maxLength} allowed`,
    );
  }
  const rules: AccessRule[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    let line = lines[i];
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line.length > maxLineLength) {
      throw new AccessRulesError(
        n,
        `the line has ${line.length} characters, more than the ${maxLineLength} allowed`,
      );
    }
    const words: string[] = [];
    for (const w of line.split(/[ \t]+/)) {
      if (w === "") continue;
      if (w.startsWith("#")) break;
      words.push(w);
    }
    if (words.length === 0) continue;
    if (rules.length === maxRules) {
      throw new AccessRulesError(n, `more than the ${maxRules} rules allowed`);
    }
    rules.push(parseRule(words, n));
  }
  return rules;
}

function parseRule(words: string[], n: number): AccessRule {
  const values = new Map<string, string>();
  for (let i = 0; i < words.length; i += 2) {
    const clause = words[i];
    if (!(CLAUSES as readonly string[]).includes(clause)) {
      throw new AccessRulesError(
        n,
        `unknown clause ${JSON.stringify(clause)} (expected job, state and from)`,
      );
    }
    if (values.has(clause)) throw new AccessRulesError(n, `the ${clause} clause is repeated`);
    if (i + 1 === words.length) {
      throw new AccessRulesError(n, `the ${clause} clause has no value`);
    }
    values.set(clause, words[i + 1]);
  }
  for (const clause of CLAUSES) {
    if (!values.has(clause)) {
      throw new AccessRulesError(
        n,
        `the ${clause} clause is missing (a rule is: job JOBID|*  state NAME|*  from CIDR|*)`,
      );
    }
  }
  const job = values.get("job")!;
  const state = values.get("state")!;
  const from = values.get("from")!;
  let jobId: JobId | undefined;
  if (job !== "*") {
    if (!/^[0-9a-fA-F]{32}$/.test(job)) {
      throw new AccessRulesError(
        n,
        `job: expected a job id (32 hex characters) or *, got ${JSON.stringify(job)}`,
      );
    }
    jobId = JobId.fromHex(job);
  }
  let block: Cidr | undefined;
  if (from !== "*") {
    try {
      block = Cidr.parse(from);
    } catch (e) {
      throw new AccessRulesError(n, `from: ${(e as Error).message}`);
    }
  }
  const rule: { -readonly [K in keyof AccessRule]: AccessRule[K] } = { line: n };
  if (jobId !== undefined) rule.jobId = jobId;
  if (state !== "*") rule.stateName = state;
  if (block !== undefined) rule.from = block;
  return rule;
}

/** How many peer addresses an access filter keeps parsed. */
const ADDRESS_CACHE_SIZE = 256;

/**
 * The request filter of an allow list: a request is allowed when at least
 * one rule matches it (its job, its state name and its peer's address), and
 * refused otherwise, so no rules refuse everything. The filter answers
 * synchronously; a request is tried against the rules that name its state
 * and those open on the state (`state *`), so its cost grows with those
 * rules only.
 *
 * A rule naming a job or a state does not match a request that does not
 * know it (a state server's state registered without its job or name, or an
 * unregistered `KvStateID`); a rule with a `from` block does not match a
 * peer whose address is not an IP address (an in-memory transport's).
 *
 * @example
 * ```ts
 * import { accessFilter, JobId, parseAccessRules } from "@kvstate/queryable-state";
 *
 * const allow = accessFilter(parseAccessRules("job *  state word-counts  from 10.0.0.0/8"));
 * const peer = { hostname: "10.2.3.4", port: 50000 };
 * const jobId = JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8");
 * allow({ remoteAddress: peer, jobId, stateName: "word-counts" }); // => true
 * allow({ remoteAddress: { hostname: "::ffff:10.2.3.4", port: 1 }, stateName: "word-counts" }); // => true
 * allow({ remoteAddress: peer, jobId, stateName: "user-prefs" }); // => false
 * allow({ remoteAddress: { hostname: "192.168.0.1", port: 1 }, stateName: "word-counts" }); // => false
 * allow({ remoteAddress: peer }); // => false
 * ```
 *
 * @param rules The allow list (copied).
 * @returns The filter.
 */
export function accessFilter(rules: readonly AccessRule[]): RequestFilter {
  // Any matching rule allows, so order does not matter: rules are bucketed
  // by state name, and a request tries its state's bucket and the rules open
  // on the state.
  type Compiled = { readonly jobId?: JobId; readonly from?: Cidr };
  const anyState: Compiled[] = [];
  const byState = new Map<string, Compiled[]>();
  let needsAddress = false;
  for (const r of rules) {
    const c: Compiled = { jobId: r.jobId, from: r.from };
    if (r.from !== undefined) needsAddress = true;
    if (r.stateName === undefined) anyState.push(c);
    else {
      const bucket = byState.get(r.stateName);
      if (bucket === undefined) byState.set(r.stateName, [c]);
      else bucket.push(c);
    }
  }
  const cache = new Map<string, IpAddress | null>();
  const addressOf = (hostname: string): IpAddress | null => {
    let a = cache.get(hostname);
    if (a === undefined) {
      a = IpAddress.parse(hostname);
      if (cache.size >= ADDRESS_CACHE_SIZE) cache.clear();
      cache.set(hostname, a);
    }
    return a;
  };
  const anyOf = (list: readonly Compiled[], request: AccessRequest): boolean => {
    const address = needsAddress ? addressOf(request.remoteAddress.hostname) : null;
    for (let i = 0; i < list.length; i++) {
      const r = list[i];
      if (r.jobId !== undefined && !r.jobId.equals(request.jobId)) continue;
      if (r.from !== undefined && (address === null || !r.from.contains(address))) continue;
      return true;
    }
    return false;
  };
  return (request: AccessRequest): boolean => {
    const bucket = request.stateName === undefined ? undefined : byState.get(request.stateName);
    return (bucket !== undefined && anyOf(bucket, request)) || anyOf(anyState, request);
  };
}
