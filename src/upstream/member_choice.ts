/**
 * Which member of a proxy pool a request goes to: the fewest outstanding
 * requests among the members that are up, ties taken in turn.
 *
 * @module
 */

/** What the choice reads of a member. */
export interface Choosable {
  /** Whether requests are sent to it. */
  readonly up: boolean;
  /** Requests sent to it and not yet settled. */
  readonly outstanding: number;
}

/**
 * The member a request goes to: among the members not in `tried`, the one
 * with the fewest outstanding requests among those that are up; ties go to
 * the first met when scanning from index `from` (a cursor the caller moves
 * on at each choice, so that equal members take turns). When no untried
 * member is up, the untried member that is down with the fewest outstanding
 * requests (it may have come back before its probe said so; its connect
 * fails fast otherwise). `undefined` when every member was tried.
 *
 * @example
 * ```ts
 * import { chooseMember } from "./member_choice.ts";
 *
 * const a = { up: true, outstanding: 2 };
 * const b = { up: true, outstanding: 1 };
 * const c = { up: false, outstanding: 0 };
 * chooseMember([a, b, c], 0, []) === b; // => true
 * chooseMember([a, b, c], 0, [b]) === a; // => true
 * chooseMember([a, b, c], 0, [a, b]) === c; // => true
 * chooseMember([a, b, c], 0, [a, b, c]); // => undefined
 * ```
 *
 * @param members The members.
 * @param from Where the scan starts (any non-negative integer; taken modulo the count).
 * @param tried The members this request was sent to already.
 * @returns The member, or `undefined`.
 */
export function chooseMember<M extends Choosable>(
  members: readonly M[],
  from: number,
  tried: readonly M[],
): M | undefined {
  const n = members.length;
  let up: M | undefined;
  let down: M | undefined;
  const start = n === 0 ? 0 : from % n;
  for (let i = 0; i < n; i++) {
    const m = members[(start + i) % n];
    if (tried.length > 0 && tried.includes(m)) continue;
    if (m.up) {
      if (up === undefined || m.outstanding < up.outstanding) up = m;
    } else if (up === undefined && (down === undefined || m.outstanding < down.outstanding)) {
      down = m;
    }
  }
  return up ?? down;
}
