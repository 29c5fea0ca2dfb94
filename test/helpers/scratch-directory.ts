/** A test's scratch directory under the system's temporary directory, removed when the test ends. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function scratchDirectory(t: { teardown(fn: () => void): void }, prefix: string): string {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}
