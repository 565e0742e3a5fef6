/**
 * The explorer page as the handler serves it: content type, a CSP that
 * allows only the page's own inline script and style (their hashes checked
 * here against the served HTML), the form fields, nothing loaded from
 * elsewhere; `explorer: false` and the bearer token.
 */

import {
  createExplorerRoute,
  EXPLORER_PAGE_HTML,
  explorerContentSecurityPolicy,
} from "../../src/http/mod.ts";
import { assert, assertEquals } from "../_assert.ts";
import { read } from "./_plane.ts";
import { BASE, startLivePlane } from "./_live_plane.ts";

async function sha256(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...d));
}

Deno.test("explorer page: GET / is the page, text/html, with a CSP that allows only itself", async () => {
  const plane = await startLivePlane();
  try {
    const res = await plane.handler(new Request(`${BASE}/`));
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-type"), "text/html; charset=utf-8");
    assertEquals(res.headers.get("x-content-type-options"), "nosniff");
    const html = await res.text();
    assertEquals(html, EXPLORER_PAGE_HTML);

    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]);
    assertEquals([scripts.length, styles.length], [1, 1]);
    const csp = res.headers.get("content-security-policy");
    assertEquals(
      csp,
      `default-src 'none'; script-src 'sha256-${await sha256(scripts[0])}'; ` +
        `style-src 'sha256-${await sha256(styles[0])}'; connect-src 'self'; ` +
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    assertEquals(csp, await explorerContentSecurityPolicy());

    // Nothing from elsewhere: no src/href attributes, no link, no URL with a scheme.
    assertEquals(/\s(src|href)=/.test(html), false);
    assertEquals(/<link|<iframe|<img|@import|https?:\/\//i.test(html), false);
    // No inline style attributes or event handler attributes (the CSP forbids them).
    assertEquals(/\sstyle=|\son[a-z]+=/i.test(html), false);
  } finally {
    await plane.close();
  }
});

Deno.test("explorer page: the form has the value route's fields, the types, and the watch switch", () => {
  for (
    const name of [
      "job",
      "state",
      "key",
      "keyType",
      "valueType",
      "stateKind",
      "mapKeyType",
      "keyHash",
    ]
  ) {
    assert(EXPLORER_PAGE_HTML.includes(` name="${name}"`), name);
  }
  assert(EXPLORER_PAGE_HTML.includes('<input id="watch" name="watch" type="checkbox"'));
  for (const t of ["string", "long", "int", "double", "bytes", "boolean"]) {
    assert(EXPLORER_PAGE_HTML.includes(`<option value="${t}"`), t);
  }
  for (const kind of ["value", "list", "map"]) {
    assert(EXPLORER_PAGE_HTML.includes(`<option value="${kind}"`), kind);
  }
  // The page uses the value and watch routes, relative to itself.
  assert(EXPLORER_PAGE_HTML.includes('"v1/jobs/"'));
  assert(EXPLORER_PAGE_HTML.includes('"/watch"'));
  assert(EXPLORER_PAGE_HTML.includes("new EventSource("));
  assertEquals(createExplorerRoute().method, "GET");
});

Deno.test("explorer page: type fields are free text with suggestions; keyHash; JSON keys", () => {
  const html = EXPLORER_PAGE_HTML;
  for (const name of ["keyType", "valueType", "mapKeyType"]) {
    assert(html.includes(`<input id="${name}" name="${name}" list="type-suggestions"`), name);
    assertEquals(html.includes(`<select id="${name}"`), false, name);
  }
  const list = /<datalist id="type-suggestions">([\s\S]*?)<\/datalist>/.exec(html);
  assert(list !== null);
  const values = [...list[1].matchAll(/<option value="([^"]*)">/g)].map((m) => m[1]);
  for (const t of ["string", "long", "bytes", "char", "decimal", "instant"]) {
    assert(values.includes(t), t);
  }
  // Composite examples, escaped inside the attribute.
  for (const t of ["tuple<string,long>", "pojo<id:long,name:string>", "row<int,string>"]) {
    const escaped = t.replaceAll("<", "&#60;").replaceAll(">", "&#62;");
    assert(values.includes(escaped), t);
  }
  assertEquals(values.some((v) => /[<>]/.test(v)), false);
  // The key says it takes JSON for structured types; keyHash starts hidden.
  assert(/<input id="key" name="key" placeholder="[^"]*JSON/.test(html));
  assert(/<input id="keyHash" name="keyHash" hidden /.test(html));
  assert(/<label id="keyHashLabel" for="keyHash" hidden>/.test(html));
  // The page sends keyHash only when its field is shown.
  assert(html.includes('q.set("keyHash"'));
});

Deno.test("explorer page: the script sets remote text as text only (no HTML parsing sinks)", () => {
  const script = /<script>([\s\S]*?)<\/script>/.exec(EXPLORER_PAGE_HTML)![1];
  for (
    const sink of [
      "innerHTML",
      "outerHTML",
      "insertAdjacentHTML",
      "document.write",
      "eval(",
      "Function(",
    ]
  ) {
    assertEquals(script.includes(sink), false, sink);
  }
  assert(script.includes("result.textContent = text"));
});

Deno.test("explorer page: explorer: false answers 404; POST / 405; behind the bearer token", async () => {
  const off = await startLivePlane((client) => ({ client, explorer: false }));
  try {
    const r = await read(await off.handler(new Request(`${BASE}/`)));
    assertEquals([r.status, r.body.error.type], [404, "RouteNotFoundError"]);
  } finally {
    await off.close();
  }
  const guarded = await startLivePlane((client) => ({ client, bearerToken: "t" }));
  try {
    const post = await read(await guarded.handler(new Request(`${BASE}/`, { method: "POST" })));
    assertEquals(post.status, 405);
    const no = await read(await guarded.handler(new Request(`${BASE}/`)));
    assertEquals(no.status, 401);
    const yes = await guarded.handler(
      new Request(`${BASE}/`, { headers: { authorization: "Bearer t" } }),
    );
    assertEquals(yes.status, 200);
    assertEquals(await yes.text(), EXPLORER_PAGE_HTML);
  } finally {
    await guarded.close();
  }
});
