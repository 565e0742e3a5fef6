/**
 * Text from a peer made safe to print on a terminal (CLI glue).
 *
 * @module
 */

// C0 controls but tab and line feed, DEL, and C1 controls (U+009B is an 8-bit CSI).
// deno-lint-ignore no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Escapes the control characters of `text` that a terminal would act on
 * (ESC sequences can move the cursor, rewrite the title or hide earlier
 * output) as `\uXXXX`; tabs and line feeds stay, so that a Java stack trace
 * still reads as one.
 *
 * @example
 * ```ts
 * import { terminalText } from "./terminal_text.ts";
 *
 * terminalText("red \u001b[31malert\u001b[0m\n\tat x"); // => "red \\u001b[31malert\\u001b[0m\n\tat x"
 * ```
 *
 * @param text Text received from a peer (an error message, a value).
 * @returns The text, its other control characters escaped.
 */
export function terminalText(text: string): string {
  return text.replace(
    CONTROLS,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
