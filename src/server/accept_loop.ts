/**
 * A server's accept loop: takes connections from a listener until it closes
 * and hands each over.
 *
 * @module
 */

import type { Connection, Listener } from "../transport/types.ts";

/** @internal What the accept loop asks of its server. */
export interface AcceptTarget {
  /** Whether the server is closing (the loop then ends). */
  closing(): boolean;
  /** Takes one accepted connection (it may close it at once). */
  accepted(conn: Connection): void;
}

/**
 * @internal Accepts until the listener is closed.
 *
 * @param listener The listener.
 * @param target Where connections go.
 * @returns Resolves when the listener is done.
 */
export async function acceptLoop(listener: Listener, target: AcceptTarget): Promise<void> {
  for (;;) {
    let conn: Connection | null;
    try {
      conn = await listener.accept();
    } catch {
      if (target.closing()) return;
      continue;
    }
    if (conn === null) return;
    target.accepted(conn);
  }
}
