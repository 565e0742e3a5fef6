/**
 * The OpenAPI 3.1 description of the gateway's routes, served at
 * `GET /openapi.json`: every route the handler answers (the value, batch
 * and watch routes, the explorer page, the probes, `/metrics` when it is
 * given, this document), the bearer scheme when a token is required, the
 * error body and its statuses, and the JSON encoding of values.
 *
 * @module
 */

import { TYPE_NAMES } from "../wire/type_serializers.ts";
import type { JsonValue } from "./json_values.ts";
import {
  DEFAULT_MAX_WATCHERS,
  DEFAULT_WATCH_INTERVAL_MS,
  DEFAULT_WATCH_MIN_INTERVAL_MS,
  MAX_WATCH_INTERVAL_MS,
  type WatchOptions,
} from "./watch_route.ts";

/**
 * A route as the document sees it: its method, its path pattern (`{name}`
 * segments are path parameters) and whether it answers without the bearer
 * token. A `Route` (e.g. from `RouteTable.routes`) is one.
 *
 * @example
 * ```ts
 * import type { OpenApiRoute } from "@kvstate/queryable-state/http";
 *
 * const metrics: OpenApiRoute = { method: "GET", path: "/metrics", public: true };
 * metrics.path; // => "/metrics"
 * ```
 */
export interface OpenApiRoute {
  /** The HTTP method, upper case. */
  readonly method: string;
  /** The path pattern, e.g. `"/v1/jobs/{jobId}/states/{stateName}"`. */
  readonly path: string;
  /** Whether the route answers without the bearer token. Default `false`. */
  readonly public?: boolean;
}

/**
 * Options of {@linkcode openApiDocument}. `createQueryHandler` gives its
 * own: its token, its bounds and the routes of its table.
 *
 * @example
 * ```ts
 * import type { OpenApiOptions } from "@kvstate/queryable-state/http";
 *
 * const o: OpenApiOptions = { title: "State gateway", bearerAuth: true };
 * o.bearerAuth; // => true
 * ```
 */
export interface OpenApiOptions {
  /** `info.title`. Default `"Flink Queryable State gateway"`. */
  readonly title?: string;
  /** `info.version`. Default `"1"`. */
  readonly version?: string;
  /**
   * Whether the routes that are not public (all but the health probes, and
   * `/metrics` when it is made public) require a bearer token. Default
   * `false`.
   */
  readonly bearerAuth?: boolean;
  /** The largest batch, shown in the batch schema. Default 100. */
  readonly maxBatchSize?: number;
  /** The largest request body in bytes, shown with the 413 answer. Default 1,048,576. */
  readonly maxBodyBytes?: number;
  /** The watch route's intervals and bound, shown with `intervalMs`. Default: their defaults. */
  readonly watch?: WatchOptions;
  /**
   * The routes the handler serves; the document describes exactly these
   * (the gateway's own in full, any other with its path parameters and a
   * generic answer). Default: those of `createQueryHandler` with its
   * defaults: the value, batch and watch routes, `GET /`, `/healthz`,
   * `/readyz` and `/openapi.json` (no `/metrics`).
   */
  readonly routes?: readonly OpenApiRoute[];
}

/** The routes of `createQueryHandler` with its default options. */
const DEFAULT_ROUTES: readonly OpenApiRoute[] = [
  { method: "GET", path: "/v1/jobs/{jobId}/states/{stateName}" },
  { method: "POST", path: "/v1/query" },
  { method: "GET", path: "/healthz", public: true },
  { method: "GET", path: "/readyz", public: true },
  { method: "GET", path: "/openapi.json" },
  { method: "GET", path: "/v1/jobs/{jobId}/states/{stateName}/watch" },
  { method: "GET", path: "/" },
];

const ENCODING = `JSON encoding of values (keys are read back the same way):

| type | JSON |
|---|---|
| \`long\` | a decimal string, exact (\`"9007199254740993"\`) |
| \`int\`, \`short\`, \`byte\` | a number |
| \`double\`, \`float\` | a number; \`"NaN"\`, \`"Infinity"\`, \`"-Infinity"\` as strings |
| \`boolean\` | \`true\` / \`false\` |
| \`string\`, \`char\` | a string |
| \`bytes\` | base64 (RFC 4648, padded; base64url also read in keys) |
| \`tuple<A,B>\` | an array of the fields |
| \`pojo<name:T,…>\` | an object, keys in serialization order (by name), or \`null\` |
| \`row<A,B>\` | \`{"kind": "+I", "fields": [...]}\` |
| \`nullable<T>\` | the value of \`T\` or \`null\` |
| \`enum<A,B>\` | the constant's name |
| \`array<T>\`, \`list<T>\` | an array |
| \`map<K,V>\` | an array of \`[key, value]\` pairs |
| \`either<L,R>\` | \`{"left": ...}\` or \`{"right": ...}\` |
| \`decimal\`, \`biginteger\` | a string (Java's \`toString()\`) |
| \`date\`, \`timestamp\`, \`instant\`, \`localdate\`, \`localtime\`, \`localdatetime\` | an ISO-8601 string |
| Java \`null\` | \`null\` |
| list state | an array of the elements |
| map state | an array of \`[key, value]\` pairs |

Types are written in the type syntax: a basic name (\`long\`), or
\`tuple<string,long>\`, \`pojo<id:long,name:string>\`, \`list<nullable<int>>\`, ...
(URL-encoded in a query string). In a query parameter, a key of a structured type
(tuple, pojo, row, nullable, array, list, map, either) is its JSON
(\`key=["acme",42]\`); other keys are their text. A POJO key needs \`keyHash\`, its
Java \`hashCode()\` (user code).`;

const STATUSES = `Errors answer \`{"error": {"type", "javaClass", "message"}}\`
(\`javaClass\` is Flink's exception class, \`null\` for the gateway's own errors;
\`parameter\` names a bad parameter):

| status | when |
|---|---|
| 400 | a bad parameter (\`BadParameterError\`, named in \`error.parameter\`) |
| 401 | the bearer token is missing or wrong (\`UnauthorizedError\`) |
| 404 | an unknown key, state or job (also as the cause of an upstream error), or route (\`RouteNotFoundError\`) |
| 405 | a method the path does not take (\`MethodNotAllowedError\`, with an \`allow\` header) |
| 413 | a body or a batch over its bound (\`BodyTooLargeError\`, \`BatchTooLargeError\`) |
| 502 | another failure upstream (\`RemoteError\`, \`ConnectError\`, ...) |
| 501 | on \`./http/node\`: a method the runtime cannot take (\`TRACE\`, \`TRACK\`) on a path that takes none of it (\`MethodNotImplementedError\`; 405 where the path exists) |
| 503 | a bound refused the request (\`RequestQueueFullError\`, \`TooManyWatchersError\`), the client is closed, the handler is closed (\`GatewayClosedError\`, a new watch after \`close()\`), or the proxy knows no JobManager (\`UnknownJobManagerError\`): retry later |
| 504 | the deadline passed (\`DeadlineExceededError\`) |
| 500 | a bug in the gateway (the message is not shown) |

In a batch and in a watch stream, a failed query is \`{"error": {..., "status": N}}\` with the status
it would have alone. With a CORS origin configured, \`OPTIONS\` preflights answer 204 on every path.`;

const ref = (name: string): JsonValue => ({ $ref: `#/components/schemas/${name}` });
const response = (name: string): JsonValue => ({ $ref: `#/components/responses/${name}` });

function content(mediaType: string, schema: JsonValue): JsonValue {
  return { [mediaType]: { schema } };
}

function errorResponse(description: string, headers?: Record<string, JsonValue>): JsonValue {
  return {
    description,
    ...(headers === undefined ? {} : { headers }),
    content: content("application/json", ref("ErrorBody")),
  };
}

/**
 * The OpenAPI 3.1 document of the gateway: the routes `options.routes`
 * names (by default those of `createQueryHandler` with its defaults), the
 * bearer scheme when `bearerAuth`, the error body and its statuses, and
 * the JSON encoding (in `info.description` and `components.schemas.JsonValue`).
 *
 * @example
 * ```ts
 * import { openApiDocument } from "@kvstate/queryable-state/http";
 *
 * const doc = openApiDocument() as { openapi: string; paths: Record<string, unknown> };
 * doc.openapi; // => "3.1.0"
 * Object.keys(doc.paths).includes("/v1/jobs/{jobId}/states/{stateName}/watch"); // => true
 * Object.keys(doc.paths).includes("/metrics"); // => false
 * ```
 *
 * @example With the metrics route and a token
 * ```ts
 * import { openApiDocument } from "@kvstate/queryable-state/http";
 *
 * const doc = openApiDocument({
 *   bearerAuth: true,
 *   routes: [{ method: "GET", path: "/metrics" }, { method: "GET", path: "/healthz", public: true }],
 * }) as { paths: Record<string, { get: { security: unknown[] } }> };
 * Object.keys(doc.paths); // => ["/metrics", "/healthz"]
 * doc.paths["/metrics"].get.security; // => [{ bearer: [] }]
 * doc.paths["/healthz"].get.security; // => []
 * ```
 *
 * @param options Title, version, the token, the bounds, the routes.
 * @returns The document, ready for `JSON.stringify`.
 */
export function openApiDocument(options: OpenApiOptions = {}): JsonValue {
  const bearer = options.bearerAuth === true;
  const maxBatchSize = options.maxBatchSize ?? 100;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const watch = options.watch ?? {};
  const minInterval = watch.minIntervalMs ?? DEFAULT_WATCH_MIN_INTERVAL_MS;
  const defaultInterval = watch.defaultIntervalMs ?? DEFAULT_WATCH_INTERVAL_MS;
  const maxWatchers = watch.maxWatchers ?? DEFAULT_MAX_WATCHERS;

  const query = (
    name: string,
    required: boolean,
    description: string,
    schema: JsonValue,
  ): JsonValue => ({ name, in: "query", required, description, schema });
  const stateParameters: JsonValue[] = [
    { $ref: "#/components/parameters/jobId" },
    { $ref: "#/components/parameters/stateName" },
    query(
      "key",
      true,
      "The key, as text in the key type (a long in decimal, bytes in base64), or as JSON for a " +
        'structured type (`["acme",42]` for `tuple<string,long>`).',
      { type: "string" },
    ),
    query("keyType", true, "The key type.", ref("TypeName")),
    query(
      "valueType",
      true,
      "The value type (of a list's elements, of a map's values).",
      ref("TypeName"),
    ),
    query("stateKind", false, "The state kind.", ref("StateKind")),
    query(
      "mapKeyType",
      false,
      "The map key type: required for, and only for, map state.",
      ref("TypeName"),
    ),
    query(
      "keyHash",
      false,
      "The key's Java hashCode(): required for a POJO key (user code); used as given for others.",
      ref("KeyHash"),
    ),
  ];

  /** The operation of a known route, without `security` and the 401 answer. */
  function known(method: string, path: string): Record<string, JsonValue> | undefined {
    switch (`${method} ${path}`) {
      case "GET /v1/jobs/{jobId}/states/{stateName}":
        return {
          operationId: "getState",
          summary: "The state of one key.",
          description: "The key's state in the JSON encoding (see the document's description).",
          parameters: stateParameters,
          responses: {
            "200": {
              description: "The state.",
              content: content("application/json", ref("ValueBody")),
            },
            "400": response("BadParameter"),
            "404": response("NotFound"),
            "502": response("BadGateway"),
            "503": response("ServiceUnavailable"),
            "504": response("GatewayTimeout"),
          },
        };
      case "POST /v1/query":
        return {
          operationId: "queryBatch",
          summary: "Several queries at once, run concurrently, answered in order.",
          description: `At most ${maxBatchSize} queries, sharing one deadline. A failed ` +
            'query is a result `{"error": {..., "status": N}}`; the answer is still 200.',
          requestBody: {
            required: true,
            content: content("application/json", ref("BatchRequest")),
          },
          responses: {
            "200": {
              description: "One result per query, in order.",
              content: content("application/json", ref("BatchResponse")),
            },
            "400": response("BadParameter"),
            "413": response("PayloadTooLarge"),
          },
        };
      case "GET /v1/jobs/{jobId}/states/{stateName}/watch":
        return {
          operationId: "watchState",
          summary: "Live changes of one key's state, as server-sent events.",
          description: "The value route's parameters and `intervalMs`. The stream sends first " +
            "the key's current state, then one event each time its bytes change (polled every " +
            '`intervalMs`). Events: `value` with data `{"value": …}` (`ValueBody`), ' +
            '`failure` with data `{"error": {…, "status": N}}` (`FailureBody`; an absent ' +
            "key is a failure with status 404, sent once until the outcome changes); a comment " +
            `line \`: keep-alive\` when idle. At most ${maxWatchers} streams at once. The ` +
            "stream ends when the client goes away.",
          parameters: [
            ...stateParameters,
            query(
              "intervalMs",
              false,
              `The time between two polls, in ms: default ${defaultInterval}; a smaller value ` +
                `is raised to ${minInterval}; more than ${MAX_WATCH_INTERVAL_MS} answers 400.`,
              { type: "integer", minimum: 1, maximum: MAX_WATCH_INTERVAL_MS },
            ),
          ],
          responses: {
            "200": {
              description: "The event stream (`event: value` or `event: failure`, then one " +
                "`data:` line of JSON).",
              content: {
                "text/event-stream": {
                  schema: { type: "string" },
                  example: 'event: value\ndata: {"value":"42"}\n\n',
                  "x-events": { value: ref("ValueBody"), failure: ref("FailureBody") },
                },
              },
            },
            "400": response("BadParameter"),
            "503": response("ServiceUnavailable"),
          },
        };
      case "GET /healthz":
        return {
          operationId: "health",
          summary: "200 while the gateway runs.",
          responses: {
            "200": { description: "Alive.", content: content("application/json", ref("Probe")) },
          },
        };
      case "GET /readyz":
        return {
          operationId: "ready",
          summary: "200 when the gateway can reach its Queryable State proxy, 503 otherwise.",
          responses: {
            "200": { description: "Ready.", content: content("application/json", ref("Probe")) },
            "503": {
              description: "Not ready.",
              content: content("application/json", ref("Probe")),
            },
          },
        };
      case "GET /openapi.json":
        return {
          operationId: "openapi",
          summary: "This document.",
          responses: {
            "200": {
              description: "The OpenAPI 3.1 document.",
              content: content("application/json", { type: "object" }),
            },
          },
        };
      case "GET /":
        return {
          operationId: "explorer",
          summary: "The state explorer page.",
          description: "One HTML page with its script inline. Its query takes the value " +
            "route's parameters (`job` or `jobId`, `state` or `stateName`, `key`, `keyType`, " +
            "`valueType`, `stateKind`, `mapKeyType`), `intervalMs`, and `watch=1` to turn the " +
            "watch switch on; with a job and a state it looks the value up on load.",
          responses: {
            "200": { description: "The page.", content: content("text/html", { type: "string" }) },
          },
        };
      case "GET /metrics":
        return {
          operationId: "metrics",
          summary: "Metrics in the Prometheus text exposition format (version 0.0.4).",
          responses: {
            "200": {
              description: "The metrics (`content-type: text/plain; version=0.0.4; " +
                "charset=utf-8`).",
              content: content("text/plain", { type: "string" }),
            },
          },
        };
      default:
        return undefined;
    }
  }

  const paths: Record<string, Record<string, JsonValue>> = {};
  for (const route of options.routes ?? DEFAULT_ROUTES) {
    const method = route.method.toLowerCase();
    const operation: Record<string, JsonValue> = known(route.method, route.path) ?? {
      summary: `${route.method} ${route.path}, a route added to the gateway.`,
      parameters: pathParameters(route.path),
      responses: { default: { description: "The route's answer." } },
    };
    const secured = bearer && route.public !== true;
    operation.security = secured ? [{ bearer: [] }] : [];
    if (secured) {
      operation.responses = {
        ...(operation.responses as Record<string, JsonValue>),
        "401": response("Unauthorized"),
      };
    }
    (paths[route.path] ??= {})[method] = operation;
  }

  const typeName: JsonValue = {
    type: "string",
    minLength: 1,
    description: "A type in the type syntax: a basic name (" + TYPE_NAMES.join(", ") +
      "), or tuple<…>, pojo<name:type,…>, row<…>, nullable<T>, enum<A,B>, array<T>, list<T>, " +
      "map<K,V>, either<L,R>, decimal, biginteger, date, timestamp, instant, localdate, " +
      "localtime, localdatetime.",
    examples: ["long", "tuple<string,long>", "pojo<id:long,name:string,tags:list<string>>"],
  };
  const errorFields: Record<string, JsonValue> = {
    type: { type: "string", description: "The error's class, e.g. `UnknownKeyOrNamespaceError`." },
    javaClass: {
      type: ["string", "null"],
      description: "Flink's Java exception class; `null` for the gateway's own errors.",
    },
    message: {
      type: "string",
      description: "What went wrong (cut to the gateway's bound, 1,024 characters by default).",
    },
    parameter: { type: "string", description: "The bad parameter (400 only)." },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: options.title ?? "Flink Queryable State gateway",
      version: options.version ?? "1",
      description: "Reads the queryable state of Flink jobs as JSON.\n\n" + ENCODING + "\n\n" +
        STATUSES,
    },
    paths,
    components: {
      schemas: {
        TypeName: typeName,
        StateKind: { type: "string", enum: ["value", "list", "map"], default: "value" },
        JsonValue: {
          description: "A value in the JSON encoding of its type: " +
            "long as a decimal string; other numbers as numbers (NaN, Infinity, -Infinity as " +
            "strings); boolean; string; bytes as base64; Java null as null; tuples, lists and " +
            "arrays as arrays; POJOs as objects; rows as {kind, fields}; list state as an " +
            "array; map state as an array of [key, value] pairs (see the description).",
          type: ["string", "number", "boolean", "null", "array", "object"],
        },
        KeyHash: { type: "integer", minimum: -2147483648, maximum: 2147483647 },
        Query: {
          type: "object",
          required: ["jobId", "stateName", "key", "keyType", "valueType"],
          properties: {
            jobId: { type: "string", pattern: "^[0-9a-fA-F]{32}$" },
            stateName: { type: "string", minLength: 1 },
            key: {
              description: "The key in the JSON encoding of its type (a number type also " +
                "takes its text; a long also a safe-integer number).",
              type: ["string", "number", "boolean", "array", "object"],
            },
            keyType: ref("TypeName"),
            valueType: ref("TypeName"),
            stateKind: ref("StateKind"),
            mapKeyType: ref("TypeName"),
            keyHash: ref("KeyHash"),
          },
        },
        BatchRequest: {
          type: "object",
          required: ["queries"],
          properties: {
            queries: { type: "array", maxItems: maxBatchSize, items: ref("Query") },
          },
        },
        BatchResponse: {
          type: "object",
          required: ["results"],
          properties: {
            results: {
              type: "array",
              items: { oneOf: [ref("ValueBody"), ref("FailureBody")] },
            },
          },
        },
        ValueBody: {
          type: "object",
          required: ["value"],
          properties: { value: ref("JsonValue") },
        },
        ErrorBody: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["type", "javaClass", "message"],
              properties: errorFields,
            },
          },
        },
        FailureBody: {
          description: "A failed query of a batch, or a watch stream's `failure` event.",
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["type", "javaClass", "message", "status"],
              properties: {
                ...errorFields,
                status: { type: "integer", description: "The HTTP status it would have alone." },
              },
            },
          },
        },
        Probe: {
          type: "object",
          required: ["status"],
          properties: { status: { type: "string", enum: ["ok", "ready", "not ready"] } },
        },
      },
      parameters: {
        jobId: {
          name: "jobId",
          in: "path",
          required: true,
          description: "The job id, 32 hex characters.",
          schema: { type: "string", pattern: "^[0-9a-fA-F]{32}$" },
        },
        stateName: {
          name: "stateName",
          in: "path",
          required: true,
          description: "The queryable state's name (percent-encoded in the path).",
          schema: { type: "string" },
        },
      },
      responses: {
        BadParameter: errorResponse("A bad parameter (`BadParameterError`, named in `parameter`)."),
        Unauthorized: errorResponse("Missing or wrong bearer token (`UnauthorizedError`).", {
          "www-authenticate": { description: "`Bearer`.", schema: { type: "string" } },
        }),
        NotFound: errorResponse("Unknown key, state or job (or route)."),
        MethodNotAllowed: errorResponse("A method the path does not take.", {
          allow: { description: "The methods the path takes.", schema: { type: "string" } },
        }),
        PayloadTooLarge: errorResponse(
          `The body is over ${maxBodyBytes} bytes (\`BodyTooLargeError\`) or the batch over ` +
            `${maxBatchSize} queries (\`BatchTooLargeError\`).`,
        ),
        BadGateway: errorResponse("Another failure upstream."),
        ServiceUnavailable: errorResponse(
          "A bound refused the request, the client is closed, or the proxy knows no JobManager: " +
            "retry later.",
        ),
        GatewayTimeout: errorResponse("The deadline passed (`DeadlineExceededError`)."),
      },
      ...(bearer ? { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } } : {}),
    },
  };
}

/** The path parameters of a pattern, as parameter objects. */
function pathParameters(path: string): JsonValue[] {
  return path.split("/").filter((s) => s.startsWith("{") && s.endsWith("}")).map((s) => ({
    name: s.slice(1, -1),
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
}
