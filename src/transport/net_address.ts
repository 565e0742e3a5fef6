/**
 * The runtime adapters' shared address checks: a port in range, and an
 * address as text for their error messages (`host:port`, `[v6]:port`).
 *
 * @module
 */

/**
 * Throws unless a port is an integer in 0..65535.
 *
 * @param port The port.
 * @throws {TypeError} When it is not.
 */
export function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`Invalid port ${port}: must be an integer in 0..65535`);
  }
}

/**
 * An address as text: `host:port`, or `[v6]:port` for a host with a colon.
 *
 * @param hostname The host.
 * @param port The port.
 * @returns The text.
 */
export function formatAddress(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}
