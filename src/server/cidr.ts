/**
 * IP addresses and CIDR blocks, for matching a peer's address against an
 * access rule.
 *
 * Both families are compared in one 128-bit form: an IPv4 address is held as
 * its IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) and an IPv4 block
 * `a.b.c.d/n` as the mapped block of prefix `96 + n`. So an IPv4 block
 * matches a dual-stack socket's IPv4-mapped peer `::ffff:a.b.c.d` as well as
 * the plain IPv4 peer, and `::/0` matches every peer address.
 *
 * @module
 */

const MAX_TEXT = 64;

let wordsOf: (address: IpAddress) => Uint32Array;

/**
 * An IPv4 or IPv6 address.
 *
 * @example
 * ```ts
 * import { IpAddress } from "@kvstate/queryable-state";
 *
 * IpAddress.parse("::ffff:10.1.2.3")?.toString(); // => "::ffff:10.1.2.3"
 * IpAddress.parse("localhost"); // => null
 * ```
 */
export class IpAddress {
  // The 128 bits, as four unsigned 32-bit words, most significant first.
  readonly #words: Uint32Array;
  readonly #text: string;

  static {
    wordsOf = (address) => address.#words;
  }

  private constructor(words: Uint32Array, text: string) {
    this.#words = words;
    this.#text = text;
  }

  /**
   * Parses a peer's address as sockets report it: dotted IPv4, or IPv6 in
   * any standard text form (`::` compression, an embedded IPv4 tail). A zone
   * (`fe80::1%eth0`) and surrounding brackets are accepted and ignored.
   *
   * @param text The address.
   * @returns The address, or `null` when `text` is not an IP address (for
   * example a host name).
   */
  static parse(text: string): IpAddress | null {
    let t = text;
    if (t.length > 2 && t.charCodeAt(0) === 0x5b && t.charCodeAt(t.length - 1) === 0x5d) {
      t = t.slice(1, -1);
    }
    const zone = t.indexOf("%");
    if (zone >= 0 && t.indexOf(":") >= 0) t = t.slice(0, zone);
    const parsed = parseWords(t);
    return typeof parsed === "string" ? null : new IpAddress(parsed.words, text);
  }

  /**
   * Returns the text it was parsed from.
   *
   * @returns The text it was parsed from.
   */
  toString(): string {
    return this.#text;
  }
}

/**
 * A block of addresses: a network address and a prefix length, as in
 * `10.0.0.0/8` or `2001:db8::/32`. A bare address is a block of one
 * (`/32` for IPv4, `/128` for IPv6).
 *
 * @example
 * ```ts
 * import { Cidr } from "@kvstate/queryable-state";
 *
 * const lan = Cidr.parse("192.168.0.0/16");
 * lan.contains("192.168.7.9"); // => true
 * lan.contains("::ffff:192.168.7.9"); // => true
 * lan.contains("10.0.0.1"); // => false
 * Cidr.parse("::1").toString(); // => "::1/128"
 * ```
 */
export class Cidr {
  /** The network's address text as written. */
  readonly address: string;
  /** The prefix length, in the family written (0..32 for IPv4, 0..128 for IPv6). */
  readonly prefixLength: number;
  /** The family written: 4 or 6. */
  readonly family: 4 | 6;
  readonly #net: Uint32Array;
  readonly #mask: Uint32Array;

  private constructor(address: string, prefixLength: number, family: 4 | 6, net: Uint32Array) {
    this.address = address;
    this.prefixLength = prefixLength;
    this.family = family;
    this.#net = net;
    this.#mask = maskOf(family === 4 ? 96 + prefixLength : prefixLength);
  }

  /**
   * Parses `ADDRESS/PREFIX` or a bare `ADDRESS`. The address is dotted IPv4
   * (no leading zeros) or IPv6 text; the prefix is a decimal length. Bits
   * past the prefix must be zero (`10.1.0.0/8` is refused, naming
   * `10.0.0.0/8`), as a guard against typos. The text is at most 64
   * characters (the longest IPv6 text with a prefix is 49).
   *
   * @param text The block.
   * @returns The block.
   * @throws {TypeError} Naming the problem, when `text` is not a block.
   */
  static parse(text: string): Cidr {
    if (text.length > MAX_TEXT) {
      throw new TypeError(`Not an address block: longer than ${MAX_TEXT} characters`);
    }
    const slash = text.indexOf("/");
    const addressText = slash < 0 ? text : text.slice(0, slash);
    const parsed = parseWords(addressText);
    if (typeof parsed === "string") {
      throw new TypeError(`Not an address block: ${JSON.stringify(text)}: ${parsed}`);
    }
    const max = parsed.family === 4 ? 32 : 128;
    let prefix = max;
    if (slash >= 0) {
      const p = text.slice(slash + 1);
      if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > max) {
        throw new TypeError(
          `Not an address block: ${JSON.stringify(text)}: the prefix length must be 0..${max}`,
        );
      }
      prefix = Number(p);
    }
    const cidr = new Cidr(addressText, prefix, parsed.family, parsed.words);
    const mask = cidr.#mask;
    const w = parsed.words;
    if ((w[0] & ~mask[0]) | (w[1] & ~mask[1]) | (w[2] & ~mask[2]) | (w[3] & ~mask[3])) {
      const net = new Uint32Array(4);
      for (let i = 0; i < 4; i++) net[i] = w[i] & mask[i];
      throw new TypeError(
        `Not an address block: ${JSON.stringify(text)}: bits are set past the prefix ` +
          `(the block is ${formatWords(net, parsed.family)}/${prefix})`,
      );
    }
    return cidr;
  }

  /**
   * Whether an address lies in this block.
   *
   * @param address An address, or its text (a host name is in no block).
   * @returns `true` when it does.
   */
  contains(address: IpAddress | string): boolean {
    const a = typeof address === "string" ? IpAddress.parse(address) : address;
    if (a === null) return false;
    const w = wordsOf(a), n = this.#net, m = this.#mask;
    return ((w[0] ^ n[0]) & m[0]) === 0 && ((w[1] ^ n[1]) & m[1]) === 0 &&
      ((w[2] ^ n[2]) & m[2]) === 0 && ((w[3] ^ n[3]) & m[3]) === 0;
  }

  /**
   * Returns the block as `ADDRESS/PREFIX`.
   *
   * @returns The block as `ADDRESS/PREFIX`.
   */
  toString(): string {
    return `${this.address}/${this.prefixLength}`;
  }
}

function maskOf(bits: number): Uint32Array {
  const m = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    const b = Math.max(0, Math.min(32, bits - 32 * i));
    m[i] = b === 0 ? 0 : (0xffffffff << (32 - b)) >>> 0;
  }
  return m;
}

function formatWords(w: Uint32Array, family: 4 | 6): string {
  if (family === 4) {
    return [w[3] >>> 24, (w[3] >>> 16) & 255, (w[3] >>> 8) & 255, w[3] & 255].join(".");
  }
  const groups: string[] = [];
  for (let i = 0; i < 4; i++) groups.push((w[i] >>> 16).toString(16), (w[i] & 0xffff).toString(16));
  return groups.join(":");
}

interface Parsed {
  words: Uint32Array;
  family: 4 | 6;
}

/** Parses an address; a string is the reason it is not one. */
function parseWords(text: string): Parsed | string {
  if (text.length === 0) return "no address";
  if (text.length > MAX_TEXT) return "too long";
  if (text.indexOf(":") < 0) {
    const v4 = parseIpv4(text);
    if (v4 < 0) return "not an IPv4 address (four decimal bytes, no leading zeros)";
    return { words: Uint32Array.of(0, 0, 0xffff, v4), family: 4 };
  }
  const groups = parseIpv6(text);
  if (groups === null) return "not an IPv6 address";
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = ((groups[2 * i] << 16) | groups[2 * i + 1]) >>> 0;
  return { words, family: 6 };
}

/** @returns The address as an unsigned 32-bit number, or -1. */
function parseIpv4(text: string): number {
  const parts = text.split(".");
  if (parts.length !== 4) return -1;
  let v = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return -1;
    const n = Number(p);
    if (n > 255) return -1;
    v = v * 256 + n;
  }
  return v;
}

/** @returns The eight 16-bit groups, or null. */
function parseIpv6(text: string): number[] | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = groupsOf(halves[0], halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1], true) : [];
  if (head === null || tail === null) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const fill = 8 - head.length - tail.length;
  if (fill < 1) return null;
  return [...head, ...new Array<number>(fill).fill(0), ...tail];
}

/** The groups of one side of `::` (`last`: an IPv4 tail is allowed). */
function groupsOf(side: string, last: boolean): number[] | null {
  if (side === "") return [];
  const parts = side.split(":");
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (last && i === parts.length - 1 && p.indexOf(".") >= 0) {
      const v4 = parseIpv4(p);
      if (v4 < 0) return null;
      out.push(v4 >>> 16, v4 & 0xffff);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
      out.push(parseInt(p, 16));
    }
  }
  return out;
}
