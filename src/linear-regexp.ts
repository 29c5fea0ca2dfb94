/**
 * Regular expressions the user writes (a known finding's problem patterns,
 * its version and target globs), compiled for V8's linear-time engine (the
 * `l` flag): a match costs time in proportion to the pattern's size times
 * the text's, so a pattern like `^(a+)+$` cannot hang the gate on a long
 * reason. The engine has no backreferences, lookaround or counts above 16
 * ({20}, {1,20}); a pattern with them is refused when the file is read.
 */
import { setFlagsFromString } from "node:v8";

let engineOn = false;

/**
 * Node 20 has the engine behind a V8 flag, which V8 reads when a pattern
 * is compiled: turned on here, once, it needs no flag from each way node is
 * started (the bin, npm scripts, ava's workers, a program importing this).
 */
function enableLinearEngine(): void {
  if (engineOn) return;
  setFlagsFromString("--enable-experimental-regexp-engine");
  engineOn = true;
}

/** Why `source` is refused, or the compiled expression. */
export function linearRegExp(source: string): RegExp | { refused: string } {
  try {
    new RegExp(source);
  } catch (error) {
    return { refused: `not a regular expression (${(error as Error).message})` };
  }
  enableLinearEngine();
  try {
    return new RegExp(source, "l");
  } catch {
    return { refused: "not one a linear-time engine can match (no backreferences, lookaround, or counts above 16 such as {20} or {1,20})" };
  }
}
