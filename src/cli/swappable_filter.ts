/**
 * A request filter whose rules can be replaced while a server runs (pure):
 * the server holds {@linkcode SwappableFilter.filter} for its whole life,
 * and a reload swaps what it delegates to. Requests already being filtered
 * keep the rules they started with.
 *
 * @module
 */

import type { AccessRequest, RequestFilter } from "../server/access_control.ts";

/** A {@linkcode RequestFilter} that delegates to the current rules. */
export class SwappableFilter {
  #current: RequestFilter;

  /** The filter to give the server: asks the current rules (one call, no allocation). */
  readonly filter: RequestFilter;

  /**
   * Creates the filter.
   *
   * @param initial The rules to start with.
   */
  constructor(initial: RequestFilter) {
    this.#current = initial;
    this.filter = (request: AccessRequest) => this.#current(request);
  }

  /**
   * Replaces the rules; requests filtered from now on see the new ones.
   *
   * @param next The new rules.
   */
  swap(next: RequestFilter): void {
    this.#current = next;
  }
}
