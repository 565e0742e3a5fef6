/**
 * The gateway's route table: method and path pattern to handler, with
 * `{name}` path parameters.
 *
 * @module
 */

/**
 * What a route's handler receives: the request, its parsed URL, and the
 * path parameters (percent-decoded).
 *
 * @example
 * ```ts
 * import type { RouteContext } from "@kvstate/queryable-state/http";
 *
 * const ctx: RouteContext = {
 *   request: new Request("http://localhost/a/b"),
 *   url: new URL("http://localhost/a/b"),
 *   params: { id: "b" },
 * };
 * ctx.params.id; // => "b"
 * ```
 */
export interface RouteContext {
  /** The request. */
  readonly request: Request;
  /** The request's URL, parsed once. */
  readonly url: URL;
  /** The path parameters by name, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
}

/**
 * A route: `method` and `path` (e.g. `"/v1/jobs/{jobId}/states/{stateName}"`,
 * each `{name}` one whole path segment) to a handler.
 *
 * @example
 * ```ts
 * import type { Route } from "@kvstate/queryable-state/http";
 *
 * const route: Route = {
 *   method: "GET",
 *   path: "/hello/{name}",
 *   handle: ({ params }) => new Response(`hello ${params.name}`),
 * };
 * route.method; // => "GET"
 * ```
 */
export interface Route {
  /** The HTTP method, upper case (`"GET"`, `"POST"`, ...). */
  readonly method: string;
  /** The path pattern: literal segments and `{name}` segments. */
  readonly path: string;
  /**
   * Whether the route answers without the bearer token (health probes).
   * Default `false`.
   */
  readonly public?: boolean;
  /** Answers the request. A thrown error is answered as an error body. */
  handle(context: RouteContext): Response | Promise<Response>;
}

/**
 * The outcome of {@linkcode RouteTable.match}: the route and its
 * parameters; or `"method"` when the path is known under other methods
 * (HTTP 405, with `allow`); or `"none"` (HTTP 404). `params` is `null` when
 * a path parameter is not valid percent-encoding.
 *
 * @example
 * ```ts
 * import type { RouteMatch } from "@kvstate/queryable-state/http";
 *
 * const miss: RouteMatch = { kind: "none" };
 * miss.kind; // => "none"
 * ```
 */
export type RouteMatch =
  | {
    readonly kind: "route";
    readonly route: Route;
    readonly params: Record<string, string> | null;
  }
  | { readonly kind: "method"; readonly allow: readonly string[] }
  | { readonly kind: "none" };

interface Compiled {
  readonly route: Route;
  /** Literal segments as they are, `null` for a parameter. */
  readonly segments: readonly (string | null)[];
  readonly names: readonly string[];
}

/**
 * Routes by method and path. Routes are matched in the order added; a path
 * is split on `/` and each segment compared (a `{name}` segment takes any
 * non-empty segment).
 *
 * @example
 * ```ts
 * import { RouteTable } from "@kvstate/queryable-state/http";
 *
 * const table = new RouteTable().add({
 *   method: "GET",
 *   path: "/v1/jobs/{jobId}",
 *   handle: () => new Response("ok"),
 * });
 * const m = table.match("GET", "/v1/jobs/abc%20d");
 * m.kind === "route" && m.params?.jobId; // => "abc d"
 * table.match("POST", "/v1/jobs/x"); // => { kind: "method", allow: ["GET"] }
 * table.match("GET", "/nope").kind; // => "none"
 * ```
 */
export class RouteTable {
  readonly #routes: Compiled[] = [];

  /**
   * Adds a route.
   *
   * @param route The route.
   * @returns This table.
   * @throws {TypeError} When the path does not start with `/`.
   */
  add(route: Route): this {
    if (!route.path.startsWith("/")) {
      throw new TypeError(`A route path starts with "/": ${route.path}`);
    }
    const names: string[] = [];
    const segments = route.path.slice(1).split("/").map((s) => {
      if (s.startsWith("{") && s.endsWith("}")) {
        names.push(s.slice(1, -1));
        return null;
      }
      return s;
    });
    this.#routes.push({ route, segments, names });
    return this;
  }

  /** The routes, in the order added. */
  get routes(): readonly Route[] {
    return this.#routes.map((c) => c.route);
  }

  /**
   * Finds the route of a request.
   *
   * @param method The request's method.
   * @param pathname The URL's path (percent-encoded, as `URL.pathname` gives).
   * @returns The match.
   */
  match(method: string, pathname: string): RouteMatch {
    const parts = pathname.slice(1).split("/");
    const allow: string[] = [];
    for (const c of this.#routes) {
      const values = matchSegments(c.segments, parts);
      if (values === undefined) continue;
      if (c.route.method !== method) {
        if (!allow.includes(c.route.method)) allow.push(c.route.method);
        continue;
      }
      if (values === null) return { kind: "route", route: c.route, params: null };
      const params: Record<string, string> = {};
      c.names.forEach((name, i) => params[name] = values[i]);
      return { kind: "route", route: c.route, params };
    }
    return allow.length > 0 ? { kind: "method", allow } : { kind: "none" };
  }
}

/** The decoded parameter values; `undefined` for no match, `null` for bad percent-encoding. */
function matchSegments(
  segments: readonly (string | null)[],
  parts: readonly string[],
): string[] | null | undefined {
  if (segments.length !== parts.length) return undefined;
  const values: string[] = [];
  let bad = false;
  for (let i = 0; i < parts.length; i++) {
    const s = segments[i];
    if (s === null) {
      if (parts[i] === "") return undefined;
      try {
        values.push(decodeURIComponent(parts[i]));
      } catch {
        bad = true;
      }
    } else if (s !== parts[i]) {
      return undefined;
    }
  }
  return bad ? null : values;
}
