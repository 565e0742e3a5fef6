import { assertEquals } from "../_assert.ts";
import { terminalText } from "../../src/cli/terminal_text.ts";

Deno.test("terminalText: a peer's escape sequences, DEL and C1 controls are escaped; tab, newline and text stay", () => {
  const trace = "java.lang.RuntimeException: Failed request 3.\n\tat a.B.c(B.java:1)";
  assertEquals(terminalText(trace), trace);
  assertEquals(terminalText("ünïcode ✓ 😀"), "ünïcode ✓ 😀");
  assertEquals(
    terminalText("x\u001b]0;owned\u0007\u001b[2J\r\u0000\u007f\u009b31m\u00a0"),
    "x\\u001b]0;owned\\u0007\\u001b[2J\\u000d\\u0000\\u007f\\u009b31m\u00a0",
  );
});
