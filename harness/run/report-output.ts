/** How commands hand results to people and files: a JSON report, a padded text table. */
import { closeSync, mkdirSync, openSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

/**
 * Makes a directory and its missing parents, one level at a time. Not
 * mkdirSync's recursive mode: under /proc (mkdir answers ENOENT below an
 * existing directory) Node 20's recursive mkdir loops forever in native
 * code, where no signal handler can run.
 */
export function makeDirectories(directory: string): void {
  const missing: string[] = [];
  for (let at = resolve(directory); ; at = dirname(at)) {
    try {
      if (!statSync(at).isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, '${at}'`), { code: "ENOTDIR" });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || dirname(at) === at) throw error;
      missing.unshift(at);
    }
  }
  for (const at of missing) mkdirSync(at);
}

/**
 * Checks, before a long run starts, that the report can be written: makes
 * its directory and creates (or truncates) the file. A one-line error says
 * which option, which file and why.
 */
export function prepareReportFile(file: string, option = "--report"): string | undefined {
  try {
    makeDirectories(dirname(file));
    closeSync(openSync(file, "w"));
    return undefined;
  } catch (error) {
    return `${option}: cannot write ${file}: ${(error as Error).message}`;
  }
}

/** Writes a report as indented JSON, making its directory first. */
export function writeJsonReport(file: string, report: unknown): void {
  makeDirectories(dirname(file));
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}

// The table layout lives with the result tables (src/result-table.ts); the benches and soak print with it too.
export { formatTable } from "../../src/result-table.ts";
