/** How commands hand results to people and files: a JSON report, a padded text table. */
import { closeSync, mkdirSync, openSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { isRunning } from "../process/process-tree.ts";

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

/** A file's own name resolved through symbolic links (a report written through a link replaces its target, not the link), or the name as given when it does not exist yet. */
function realFile(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

/** Whether a name is something other than a regular file that exists (/dev/stdout, a FIFO): written in place, as there is nothing to rename over. */
function isSpecialFile(file: string): boolean {
  try {
    return !statSync(file).isFile() && !statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/** The temporary name a report is written to, in its own directory (so the rename stays within one file system), distinct per process. */
function temporaryName(file: string, pid = process.pid): string {
  return join(dirname(file), `.${basename(file)}.${pid}.tmp`);
}

/** Removes the temporary names of this report that a process SIGKILLed while writing it left (its pid no longer runs). */
function removeLeftTemporaries(file: string): void {
  const prefix = `.${basename(file)}.`;
  for (const name of readdirSync(dirname(file))) {
    const pid = name.startsWith(prefix) && name.endsWith(".tmp") ? Number(name.slice(prefix.length, -".tmp".length)) : NaN;
    if (Number.isInteger(pid) && pid > 0 && !isRunning(pid)) rmSync(temporaryName(file, pid), { force: true });
  }
}

/**
 * Checks, before a long run starts, that the report can be written: makes
 * its directory, refuses a directory for a file, and creates and removes a
 * file beside it. An earlier report at that name is left as it is until the
 * new one replaces it whole. A one-line error says which option, which file
 * and why.
 */
export function prepareReportFile(file: string, option = "--report"): string | undefined {
  try {
    const real = realFile(file);
    makeDirectories(dirname(real));
    if (isSpecialFile(real)) return undefined;
    try {
      if (statSync(real).isDirectory()) return `${option}: cannot write ${file}: it is a directory`;
    } catch {
      // not there yet: the probe below says whether it can be
    }
    const probe = temporaryName(real);
    closeSync(openSync(probe, "w"));
    rmSync(probe, { force: true });
    removeLeftTemporaries(real);
    return undefined;
  } catch (error) {
    return `${option}: cannot write ${file}: ${(error as Error).message}`;
  }
}

/**
 * Writes a report file whole or not at all: to a temporary name beside it,
 * then renamed over it, so a run killed while writing leaves the earlier
 * report, never half of either. Makes its directory first.
 */
export function writeReportFile(file: string, text: string): void {
  const real = realFile(file);
  makeDirectories(dirname(real));
  if (isSpecialFile(real)) return writeFileSync(real, text);
  const temporary = temporaryName(real);
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, real);
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** Writes a report as indented JSON (whole or not at all: writeReportFile). */
export function writeJsonReport(file: string, report: unknown): void {
  writeReportFile(file, `${JSON.stringify(report, null, 2)}\n`);
}

// The table layout lives with the result tables (src/result-table.ts); the benches and soak print with it too.
export { formatTable } from "../../src/result-table.ts";
