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
 * `stateKind`, `mapKeyType`; `jobId` and `stateName` are taken too, and
 * `intervalMs` and `watch=1` for the watch switch), and runs the lookup on
 * load, so a link shows a value:
 * `/?job=0102…a8&state=word-counts&key=hello&keyType=string&valueType=long`.
 * A lookup updates the page's URL to match the form.
 *
 * Its API requests are relative (`v1/jobs/…`), so the page also works when
 * the gateway is served under a path prefix. With a bearer token configured,
 * a browser cannot send it: the page's lookups then answer 401.
 *
 * @module
 */

import { TYPE_NAMES } from "../wire/type_serializers.ts";
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
`;

const SCRIPT = `
(function () {
  "use strict";
  var form = document.getElementById("lookup");
  var result = document.getElementById("result");
  var status = document.getElementById("status");
  var watch = document.getElementById("watch");
  var FIELDS = ["job", "state", "key", "keyType", "valueType", "stateKind", "mapKeyType", "intervalMs"];
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
          !(name === "mapKeyType" && field("stateKind").value !== "map")) q.set(name, v);
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

  function showBody(httpStatus, body, note) {
    if (body && Object.prototype.hasOwnProperty.call(body, "value")) {
      show("value", JSON.stringify(body.value, null, 2), note);
    } else if (body && body.error) {
      var e = body.error;
      show("error", e.type + " (HTTP " + httpStatus + ")\\n" + e.message +
        (e.javaClass ? "\\n" + e.javaClass : ""), note);
    } else {
      show("error", "Unexpected answer (HTTP " + httpStatus + ")", note);
    }
  }

  function stopWatch() {
    if (source !== null) { source.close(); source = null; }
  }

  function startWatch() {
    stopWatch();
    var mine = new EventSource(apiUrl(true));
    source = mine;
    show("pending", "…", "watching: connecting");
    mine.addEventListener("value", function (e) {
      events++;
      result.dataset.events = String(events);
      showBody(200, JSON.parse(e.data), "watching: updated " + new Date().toLocaleTimeString());
    });
    mine.addEventListener("failure", function (e) {
      events++;
      result.dataset.events = String(events);
      var body = JSON.parse(e.data);
      showBody(body.error.status, body, "watching: updated " + new Date().toLocaleTimeString());
    });
    mine.addEventListener("error", function () {
      if (source !== mine) return;
      if (mine.readyState === EventSource.CLOSED) {
        status.textContent = "watch ended (the gateway refused or closed the stream)";
        source = null;
        watch.checked = false;
      } else {
        status.textContent = "watching: reconnecting";
      }
    });
  }

  function lookup() {
    history.replaceState(null, "", "?" + formQuery().toString());
    stopWatch();
    var mine = ++seq;
    if (watch.checked) { startWatch(); return; }
    show("pending", "…", "looking up");
    fetch(apiUrl(false), { headers: { accept: "application/json" } }).then(function (res) {
      return res.text().then(function (text) {
        if (mine !== seq) return;
        var body = null;
        try { body = JSON.parse(text); } catch (_) { body = null; }
        showBody(res.status, body, "HTTP " + res.status + " at " + new Date().toLocaleTimeString());
      });
    }).catch(function (err) {
      if (mine === seq) show("error", String(err), "the gateway could not be reached");
    });
  }

  function kindChanged() {
    field("mapKeyType").disabled = field("stateKind").value !== "map";
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); lookup(); });
  watch.addEventListener("change", function () {
    if (watch.checked) { history.replaceState(null, "", "?" + formQuery().toString()); seq++; startWatch(); }
    else { stopWatch(); status.textContent = "watch off"; history.replaceState(null, "", "?" + formQuery().toString()); }
  });
  field("stateKind").addEventListener("change", kindChanged);
  var ready = fromUrl();
  kindChanged();
  if (ready) lookup();
  document.body.dataset.ready = "1";
})();
`;

function options(selected: string, blank: boolean): string {
  const names = blank ? ["", ...TYPE_NAMES] : [...TYPE_NAMES];
  return names.map((n) =>
    `<option value="${n}"${n === selected ? " selected" : ""}>${n === "" ? "—" : n}</option>`
  ).join("");
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
<label for="key">key</label><input id="key" name="key" placeholder="the key, as text" autocomplete="off">
<label for="keyType">keyType</label><select id="keyType" name="keyType">${
  options("string", false)
}</select>
<label for="valueType">valueType</label><select id="valueType" name="valueType">${
  options("long", false)
}</select>
<label for="stateKind">stateKind</label><select id="stateKind" name="stateKind"><option value="value" selected>value</option><option value="list">list</option><option value="map">map</option></select>
<label for="mapKeyType">mapKeyType</label><select id="mapKeyType" name="mapKeyType">${
  options("", true)
}</select>
<label for="intervalMs">intervalMs</label><input id="intervalMs" name="intervalMs" type="number" min="1" placeholder="watch poll interval (ms)">
<div class="actions"><button id="go" type="submit">Look up</button><label><input id="watch" name="watch" type="checkbox" value="1"> watch</label></div>
</form>
<p id="status" role="status"></p>
<pre id="result" data-kind="empty" aria-live="polite"></pre>
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
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  let binary = "";
  for (const b of digest) binary += String.fromCharCode(b);
  return btoa(binary);
}
