/**
 * The OpenAPI 3.1 description of the gateway's routes, served at
 * `GET /openapi.json`.
 *
 * @module
 */

import { TYPE_NAMES } from "../wire/type_serializers.ts";
import type { JsonValue } from "./json_values.ts";

/**
 * Options of {@linkcode openApiDocument}.
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
  /** Whether the routes (all but the health probes) require a bearer token. Default `false`. */
  readonly bearerAuth?: boolean;
  /** The largest batch, shown in the batch schema. Default 100. */
  readonly maxBatchSize?: number;
}

const ref = (name: string): JsonValue => ({ $ref: `#/components/schemas/${name}` });

function jsonContent(schema: JsonValue): JsonValue {
  return { "application/json": { schema } };
}

function errorResponse(description: string): JsonValue {
  return { description, content: jsonContent(ref("ErrorBody")) };
}

/**
 * The OpenAPI 3.1 document of the gateway: the value route, the batch
 * route, the health probes and this document.
 *
 * @example
 * ```ts
 * import { openApiDocument } from "@kvstate/queryable-state/http";
 *
 * const doc = openApiDocument() as { openapi: string; paths: Record<string, unknown> };
 * doc.openapi; // => "3.1.0"
 * Object.keys(doc.paths).includes("/v1/query"); // => true
 * ```
 *
 * @param options Title, version, whether a bearer token is required.
 * @returns The document, ready for `JSON.stringify`.
 */
export function openApiDocument(options: OpenApiOptions = {}): JsonValue {
  const typeName: JsonValue = { type: "string", enum: [...TYPE_NAMES] };
  const secured: JsonValue = options.bearerAuth ? [{ bearer: [] }] : [];
  const queryParam = (
    name: string,
    required: boolean,
    description: string,
    schema: JsonValue,
  ): JsonValue => ({ name, in: "query", required, description, schema });
  const failures: Record<string, JsonValue> = {
    "400": errorResponse("A bad parameter (named in `error.parameter`)."),
    "404": errorResponse("Unknown key, state or job."),
    "502": errorResponse("Another failure upstream."),
    "503": errorResponse("A bound refused the request."),
    "504": errorResponse("The deadline passed."),
  };
  if (options.bearerAuth) failures["401"] = errorResponse("Missing or wrong bearer token.");
  const document: Record<string, JsonValue> = {
    openapi: "3.1.0",
    info: {
      title: options.title ?? "Flink Queryable State gateway",
      version: options.version ?? "1",
      description: "Reads the queryable state of Flink jobs as JSON. Encoding: long as a " +
        "decimal string; other numbers as numbers (NaN, Infinity, -Infinity as strings); " +
        "bytes as base64; Java null as null; list state as an array; map state as an array " +
        "of [key, value] pairs.",
    },
    paths: {
      "/v1/jobs/{jobId}/states/{stateName}": {
        get: {
          operationId: "getState",
          summary: "The value of one key of a queryable state.",
          security: secured,
          parameters: [
            {
              name: "jobId",
              in: "path",
              required: true,
              schema: { type: "string", pattern: "^[0-9a-fA-F]{32}$" },
            },
            { name: "stateName", in: "path", required: true, schema: { type: "string" } },
            queryParam("key", true, "The key, as text in the key type.", { type: "string" }),
            queryParam("keyType", true, "The key type.", typeName),
            queryParam("valueType", true, "The value (element) type.", typeName),
            queryParam("stateKind", false, "The state kind.", {
              type: "string",
              enum: ["value", "list", "map"],
              default: "value",
            }),
            queryParam("mapKeyType", false, "The map key type (map state).", typeName),
          ],
          responses: {
            "200": { description: "The value.", content: jsonContent(ref("ValueBody")) },
            ...failures,
          },
        },
      },
      "/v1/query": {
        post: {
          operationId: "queryBatch",
          summary: "Several queries at once, answered in order.",
          security: secured,
          requestBody: {
            required: true,
            content: jsonContent({
              type: "object",
              required: ["queries"],
              properties: {
                queries: {
                  type: "array",
                  maxItems: options.maxBatchSize ?? 100,
                  items: ref("Query"),
                },
              },
            }),
          },
          responses: {
            "200": {
              description: "One result per query, in order.",
              content: jsonContent({
                type: "object",
                properties: {
                  results: {
                    type: "array",
                    items: { oneOf: [ref("ValueBody"), ref("ErrorBody")] },
                  },
                },
              }),
            },
            "400": errorResponse("The body is not JSON or has no `queries` array."),
            "413": errorResponse("The body or the batch is larger than its bound."),
            ...(options.bearerAuth ? { "401": failures["401"] } : {}),
          },
        },
      },
      "/healthz": {
        get: {
          operationId: "health",
          summary: "200 while the gateway runs.",
          security: [],
          responses: { "200": { description: "Alive." } },
        },
      },
      "/readyz": {
        get: {
          operationId: "ready",
          summary: "200 when the gateway can reach its Queryable State proxy, 503 otherwise.",
          security: [],
          responses: { "200": { description: "Ready." }, "503": { description: "Not ready." } },
        },
      },
      "/openapi.json": {
        get: {
          operationId: "openapi",
          summary: "This document.",
          security: secured,
          responses: { "200": { description: "The OpenAPI document." } },
        },
      },
    },
    components: {
      schemas: {
        Query: {
          type: "object",
          required: ["jobId", "stateName", "key", "keyType", "valueType"],
          properties: {
            jobId: { type: "string", pattern: "^[0-9a-fA-F]{32}$" },
            stateName: { type: "string" },
            key: { description: "The key in the JSON encoding of its type." },
            keyType: typeName,
            valueType: typeName,
            stateKind: { type: "string", enum: ["value", "list", "map"], default: "value" },
            mapKeyType: typeName,
          },
        },
        ValueBody: {
          type: "object",
          required: ["value"],
          properties: { value: { description: "The state in the documented JSON encoding." } },
        },
        ErrorBody: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["type", "javaClass", "message"],
              properties: {
                type: { type: "string" },
                javaClass: { type: ["string", "null"] },
                message: { type: "string" },
                parameter: { type: "string" },
                status: { type: "integer" },
              },
            },
          },
        },
      },
      ...(options.bearerAuth
        ? { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } }
        : {}),
    },
  };
  return document;
}
