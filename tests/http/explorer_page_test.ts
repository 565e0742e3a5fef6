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
  for (const name of ["job", "state", "key", "keyType", "valueType", "stateKind", "mapKeyType"]) {
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
