/**
 * The state explorer: one small HTML page (`GET /`) with a form for job,
 * state, key and types, the value or the error below it, and a "watch"
 * switch that shows live changes through the watch route. Plain HTML, CSS
 * and JavaScript, all inline; nothing is loaded from elsewhere, and the
 * `content-security-policy` header allows only the page's own script and
 * style (by hash) and requests to its own origin.
 *
 * The page reads its form from its URL's query, with the value route's
 * parameter names (`job`, `state`, `key`, `keyType`, `valueType`,
 * `stateKind`, `mapKeyType`, `keyHash`; `jobId` and `stateName` are taken
 * too, and `intervalMs` and `watch=1` for the watch switch), and runs the
 * lookup on load, so a link shows a value:
 * `/?job=0102…a8&state=word-counts&key=hello&keyType=string&valueType=long`.
 * A lookup updates the page's URL to match the form.
 *
 * The type fields are free text in the type syntax (`long`,
 * `tuple<string,long>`, `pojo<id:long,name:string>`, …), with the basic
 * names and a few composite examples as suggestions. A key of a structured
 * type (`tuple<…>`, `pojo<…>`, `row<…>`, …) is typed as JSON
 * (`["acme",1001]`); the `keyHash` field (the key's Java `hashCode()`)
 * appears, and is required, when the key type has a POJO in it. An error
 * from the gateway is shown as it comes: its type, HTTP status, the
 * `parameter` it names, its message, and for a bad type text a caret under
 * the position the message names. Remote text is only ever set as text
 * (`textContent`), never parsed as HTML.
 *
 * Its API requests are relative (`v1/jobs/…`), so the page also works when
 * the gateway is served under a path prefix. With a bearer token configured,
 * a browser cannot send it: the page's lookups then answer 401.
 *
 * @module
 */

import { TYPE_NAMES } from "../wire/type_serializers.ts";
import { bytesToBase64 } from "../types/json_scalars.ts";
import type { Route } from "./route_table.ts";

const STYLE = `
body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.3rem; }
form { display: grid; grid-template-columns: max-content 1fr; gap: .4rem .8rem; align-items: center; }
input, select, button { font: inherit; padding: .2rem .4rem; }
.actions { grid-column: 2; display: flex; gap: 1rem; align-items: center; }
#status { color: #555; min-height: 1.4em; }
#result { background: #f4f4f6; border: 1px solid #ddd; padding: .8rem; white-space: pre-wrap; overflow-wrap: anywhere; min-height: 1.4em; }
#result[data-kind="error"] { background: #fdf0f0; border-color: #e0a0a0; color: #8a1010; }
#result[data-kind="pending"] { color: #777; }
.hint { grid-column: 2; color: #555; }
.hint:empty { display: none; }
[hidden] { display: none !important; }
[aria-invalid="true"] { outline: 2px solid #c03030; }
`;

const SCRIPT = `
(function () {
  "use strict";
  var form = document.getElementById("lookup");
  var result = document.getElementById("result");
  var status = document.getElementById("status");
  var watch = document.getElementById("watch");
  var FIELDS = ["job", "state", "key", "keyType", "valueType", "stateKind", "mapKeyType", "keyHash", "intervalMs"];
  var TYPE_FIELDS = ["keyType", "valueType", "mapKeyType"];
  var STRUCTURED = /^\\s*(tuple|pojo|row|nullable|array|list|map|either)\\s*</;
  var HAS_POJO = /(^|[<,:\\s])pojo\\s*</;
  var KEY_TEXT_HINT = "the key: as text, or as JSON for a tuple, pojo, row, … key type";
  var KEY_JSON_HINT = 'the key as JSON, e.g. ["acme",1001] for tuple<string,long>, {"id":1} for a pojo';
  var ALIASES = { job: "jobId", state: "stateName" };
  var source = null;
  var seq = 0;
  var events = 0;

  function field(name) { return form.elements.namedItem(name); }

  function fromUrl() {
    var q = new URLSearchParams(location.search);
    FIELDS.forEach(function (name) {
      var v = q.get(name);
      if (v === null && ALIASES[name]) v = q.get(ALIASES[name]);
      if (v !== null) field(name).value = v;
    });
    var w = q.get("watch");
    watch.checked = w === "1" || w === "true" || w === "on";
    return field("job").value !== "" && field("state").value !== "";
  }

  function formQuery() {
    var q = new URLSearchParams();
    FIELDS.forEach(function (name) {
      var v = field(name).value;
      if (v !== "" && !(name === "stateKind" && v === "value") &&
          !(name === "mapKeyType" && field("stateKind").value !== "map") &&
          !(name === "keyHash" && field("keyHash").hidden)) q.set(name, v);
    });
    if (watch.checked) q.set("watch", "1");
    return q;
  }

  function apiUrl(watching) {
    var q = new URLSearchParams();
    q.set("key", field("key").value);
    q.set("keyType", field("keyType").value);
    q.set("valueType", field("valueType").value);
    var kind = field("stateKind").value;
    if (kind !== "value") q.set("stateKind", kind);
    if (kind === "map") q.set("mapKeyType", field("mapKeyType").value);
    if (!field("keyHash").hidden && field("keyHash").value !== "") q.set("keyHash", field("keyHash").value);
    if (watching && field("intervalMs").value !== "") q.set("intervalMs", field("intervalMs").value);
    var path = "v1/jobs/" + encodeURIComponent(field("job").value) + "/states/" +
      encodeURIComponent(field("state").value) + (watching ? "/watch" : "");
    return new URL(path + "?" + q.toString(), location.href).href;
  }

  function show(kind, text, note) {
    result.dataset.kind = kind;
    result.textContent = text;
    status.textContent = note;
  }

  function clearInvalid() {
    FIELDS.forEach(function (name) { field(name).removeAttribute("aria-invalid"); });
    delete result.dataset.parameter;
  }

  /** The form field a parameter names: "key[1]" and "key.customer" are the key's. */
  function fieldOf(parameter) {
    var m = /^[A-Za-z]+/.exec(String(parameter));
    var name = m ? m[0] : "";
    return FIELDS.indexOf(name) >= 0 ? field(name) : null;
  }

  /** For a bad type text: the text sent and a caret under the position its message names. */
  function caret(parameter, message, sent) {
    if (TYPE_FIELDS.indexOf(parameter) < 0 || !sent || typeof sent[parameter] !== "string") return "";
    var m = /\\bat (\\d+):/.exec(String(message));
    if (!m) return "";
    var text = sent[parameter];
    var at = Math.min(Number(m[1]), text.length);
    if (text.length > 2000) return "";
    return "\\n\\n  " + text + "\\n  " + new Array(at + 1).join(" ") + "^";
  }

  function showBody(httpStatus, body, note, sent) {
    clearInvalid();
    if (body && Object.prototype.hasOwnProperty.call(body, "value")) {
      show("value", JSON.stringify(body.value, null, 2), note);
    } else if (body && body.error && typeof body.error === "object") {
      var e = body.error;
      var text = String(e.type) + " (HTTP " + httpStatus + ")";
      if (typeof e.parameter === "string") {
        text += "\\nparameter: " + e.parameter;
        result.dataset.parameter = e.parameter;
        var f = fieldOf(e.parameter);
        if (f !== null) {
          f.setAttribute("aria-invalid", "true");
          if (f.hidden) { showKeyHash(true); f.setAttribute("aria-invalid", "true"); }
        }
      }
      text += "\\n" + String(e.message);
      text += typeof e.parameter === "string" ? caret(e.parameter, e.message, sent) : "";
      if (e.javaClass) text += "\\n" + String(e.javaClass);
      show("error", text, note);
    } else {
      show("error", "Unexpected answer (HTTP " + httpStatus + ")", note);
    }
  }

  function sentFields() {
    var sent = {};
    FIELDS.forEach(function (name) { sent[name] = field(name).value; });
    return sent;
  }

  function stopWatch() {
    if (source !== null) { source.close(); source = null; }
  }

  /** One lookup through the value route; its answer is shown unless a newer one started. */
  function fetchOnce(mine, sent, note) {
    fetch(apiUrl(false), { headers: { accept: "application/json" } }).then(function (res) {
      return res.text().then(function (text) {
        if (mine !== seq) return;
        var body = null;
        try { body = JSON.parse(text); } catch (_) { body = null; }
        showBody(res.status, body, note(res.status), sent);
      });
    }).catch(function (err) {
      if (mine === seq) show("error", String(err), "the gateway could not be reached");
    });
  }

  function startWatch() {
    stopWatch();
    var mine = new EventSource(apiUrl(true));
    var sent = sentFields();
    var turn = seq;
    source = mine;
    show("pending", "…", "watching: connecting");
    mine.addEventListener("value", function (e) {
      events++;
      result.dataset.events = String(events);
      showBody(200, JSON.parse(e.data), "watching: updated " + new Date().toLocaleTimeString(), sent);
    });
    mine.addEventListener("failure", function (e) {
      events++;
      result.dataset.events = String(events);
      var body = JSON.parse(e.data);
      showBody(body.error.status, body, "watching: updated " + new Date().toLocaleTimeString(), sent);
    });
    mine.addEventListener("error", function () {
      if (source !== mine) return;
      if (mine.readyState === EventSource.CLOSED) {
        source = null;
        watch.checked = false;
        status.textContent = "watch ended (the gateway refused or closed the stream)";
        // A stream refused at once (a bad parameter) has its reason in a body EventSource
        // does not show: one lookup shows the gateway's answer.
        if (turn === seq && events === 0) {
          fetchOnce(turn, sent, function (code) {
            return "watch ended; a lookup answers HTTP " + code;
          });
        }
      } else {
        status.textContent = "watching: reconnecting";
      }
    });
  }

  function lookup() {
    history.replaceState(null, "", "?" + formQuery().toString());
    stopWatch();
    var mine = ++seq;
    events = 0;
    delete result.dataset.events;
    if (watch.checked) { startWatch(); return; }
    show("pending", "…", "looking up");
    fetchOnce(mine, sentFields(), function (code) {
      return "HTTP " + code + " at " + new Date().toLocaleTimeString();
    });
  }

  function kindChanged() {
    field("mapKeyType").disabled = field("stateKind").value !== "map";
  }

  function showKeyHash(shown) {
    var input = field("keyHash");
    input.hidden = !shown;
    document.getElementById("keyHashLabel").hidden = !shown;
    document.getElementById("keyHashHint").hidden = !shown;
    input.required = shown && HAS_POJO.test(field("keyType").value);
  }

  function keyTypeChanged() {
    var keyType = field("keyType").value;
    var json = STRUCTURED.test(keyType);
    field("key").placeholder = json ? KEY_JSON_HINT : KEY_TEXT_HINT;
    document.getElementById("keyHint").textContent = json
      ? "a " + keyType.split("<")[0].trim() + " key is JSON: an array for a tuple or row, an object for a pojo"
      : "";
    showKeyHash(HAS_POJO.test(keyType) || field("keyHash").value !== "");
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); lookup(); });
  watch.addEventListener("change", function () {
    if (watch.checked) {
      history.replaceState(null, "", "?" + formQuery().toString());
      seq++;
      events = 0;
      delete result.dataset.events;
      startWatch();
    } else { stopWatch(); status.textContent = "watch off"; history.replaceState(null, "", "?" + formQuery().toString()); }
  });
  field("stateKind").addEventListener("change", kindChanged);
  field("keyType").addEventListener("input", keyTypeChanged);
  field("keyType").addEventListener("change", keyTypeChanged);
  var ready = fromUrl();
  kindChanged();
  keyTypeChanged();
  if (ready) lookup();
  document.body.dataset.ready = "1";
})();
`;

/** Composite examples offered in the type fields' suggestions (after the basic names). */
const COMPOSITE_SUGGESTIONS: readonly string[] = [
  "tuple<string,long>",
  "tuple<string,int,long>",
  "pojo<id:long,name:string>",
  "row<int,string>",
  "nullable<long>",
  "enum<RED,GREEN,BLUE>",
  "array<long>",
  "list<string>",
  "map<string,long>",
  "either<string,long>",
  "decimal",
  "biginteger",
  "instant",
  "localdate",
  "localdatetime",
];

/** Text made safe inside an HTML attribute value or element. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The `<datalist>` the type fields suggest from. */
function typeSuggestions(): string {
  return `<datalist id="type-suggestions">${
    [...TYPE_NAMES, ...COMPOSITE_SUGGESTIONS].map((n) => `<option value="${escapeHtml(n)}">`)
      .join("")
  }</datalist>`;
}

/** A free-text type field in the type syntax, with the suggestions. */
function typeInput(name: string, value: string, placeholder: string): string {
  return `<input id="${name}" name="${name}" list="type-suggestions" value="${
    escapeHtml(value)
  }" placeholder="${
    escapeHtml(placeholder)
  }" autocomplete="off" spellcheck="false" autocapitalize="off">`;
}

/**
 * The explorer page's HTML: one document, its script and style inline.
 *
 * @example
 * ```ts
 * import { EXPLORER_PAGE_HTML } from "@kvstate/queryable-state/http";
 *
 * EXPLORER_PAGE_HTML.startsWith("<!doctype html>"); // => true
 * EXPLORER_PAGE_HTML.includes('name="keyType"'); // => true
 * ```
 */
export const EXPLORER_PAGE_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Queryable state explorer</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Queryable state explorer</h1>
<form id="lookup" method="get" action="">
<label for="job">job</label><input id="job" name="job" required pattern="[0-9a-fA-F]{32}" placeholder="32 hex characters" autocomplete="off">
<label for="state">state</label><input id="state" name="state" required placeholder="queryable state name" autocomplete="off">
<label for="key">key</label><input id="key" name="key" placeholder="the key: as text, or as JSON for a tuple, pojo, row, … key type" autocomplete="off" spellcheck="false" aria-describedby="keyHint">
<small id="keyHint" class="hint" aria-live="polite"></small>
<label for="keyType">keyType</label>${
  typeInput(
    "keyType",
    "string",
    "type text: long, tuple<string,long>, pojo<id:long,name:string>, …",
  )
}
<label for="valueType">valueType</label>${
  typeInput("valueType", "long", "type text: long, pojo<id:long,name:string>, …")
}
<label for="stateKind">stateKind</label><select id="stateKind" name="stateKind"><option value="value" selected>value</option><option value="list">list</option><option value="map">map</option></select>
<label for="mapKeyType">mapKeyType</label>${
  typeInput("mapKeyType", "", "type text (map state only)")
}
<label id="keyHashLabel" for="keyHash" hidden>keyHash</label><input id="keyHash" name="keyHash" hidden inputmode="numeric" pattern="-?[0-9]{1,10}" placeholder="the key's Java hashCode(), an int32" autocomplete="off" aria-describedby="keyHashHint">
<small id="keyHashHint" class="hint" hidden>required for a POJO key: its hashCode() is user code, so the gateway cannot compute the key group without it</small>
<label for="intervalMs">intervalMs</label><input id="intervalMs" name="intervalMs" type="number" min="1" placeholder="watch poll interval (ms)">
<div class="actions"><button id="go" type="submit">Look up</button><label><input id="watch" name="watch" type="checkbox" value="1"> watch</label></div>
</form>
<p id="status" role="status"></p>
<pre id="result" data-kind="empty" aria-live="polite"></pre>
${typeSuggestions()}
<script>${SCRIPT}</script>
</body>
</html>
`;

let policy: Promise<string> | undefined;

/**
 * The `content-security-policy` of the explorer page: nothing but the
 * page's own inline script and style (allowed by their SHA-256 hashes), and
 * requests (`fetch`, `EventSource`) and form submissions to its own origin.
 *
 * @example
 * ```ts
 * import { explorerContentSecurityPolicy } from "@kvstate/queryable-state/http";
 *
 * const csp = await explorerContentSecurityPolicy();
 * csp.startsWith("default-src 'none'; script-src 'sha256-"); // => true
 * csp.includes("connect-src 'self'"); // => true
 * ```
 *
 * @returns The header's value (computed once).
 */
export function explorerContentSecurityPolicy(): Promise<string> {
  policy ??= Promise.all([sha256(SCRIPT), sha256(STYLE)]).then(([script, style]) =>
    [
      "default-src 'none'",
      `script-src 'sha256-${script}'`,
      `style-src 'sha256-${style}'`,
      "connect-src 'self'",
      "form-action 'self'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join("; ")
  );
  return policy;
}

/**
 * The explorer page's route, `GET /`: the page as `text/html` with its
 * `content-security-policy`. `createQueryHandler` registers it unless its
 * `explorer` option is `false`.
 *
 * @example
 * ```ts
 * import { createExplorerRoute } from "@kvstate/queryable-state/http";
 *
 * const route = createExplorerRoute();
 * route.path; // => "/"
 * const res = await route.handle({
 *   request: new Request("http://localhost/"), url: new URL("http://localhost/"), params: {},
 * });
 * res.headers.get("content-type"); // => "text/html; charset=utf-8"
 * ```
 *
 * @returns The route.
 */
export function createExplorerRoute(): Route {
  return {
    method: "GET",
    path: "/",
    handle: async () =>
      new Response(EXPLORER_PAGE_HTML, {
        headers: {
          "content-type": "text/html; charset=utf-8",
          "content-security-policy": await explorerContentSecurityPolicy(),
          "x-content-type-options": "nosniff",
          "referrer-policy": "no-referrer",
          "cache-control": "no-cache",
        },
      }),
  };
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return bytesToBase64(new Uint8Array(digest));
}
