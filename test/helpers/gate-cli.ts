// The CLI as the tests start it: `vforkcheck ARGS` from the checkout,
// asynchronously (a file's tests run side by side), and a gate with its JSON
// report read back.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { scratchDirectory } from "./scratch-directory.ts";

/** A result row of a gate report, as the tests read it. */
export interface ReportResult {
  target: string;
  property: string;
  status: string;
  reason: string;
  counterexample: string | null;
  replay: string | null;
  /** A failure's problems, and its first failing case's (before the shrink). */
  problems?: string[];
  first_failure?: { problems: string[]; counterexample: string };
}

export interface KnownRow {
  finding: string;
  target: string;
  status: string;
}

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

export interface GateCliRun {
  status: number | null;
  results: ReportResult[];
  knownFindings?: KnownRow[];
  implementations: { label: string; name: string; version: string }[];
  /** The end of stdout and stderr, for assertion messages. */
  output: string;
  seconds: number;
}

/** `vforkcheck ARGS` through harness/cli/vforkcheck.ts, with `env` added to this process's; killed at the timeout (status null). */
export function vforkcheckCli(args: readonly string[], timeoutMs: number, env: Record<string, string> = {}): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import=tsx", "harness/cli/vforkcheck.ts", ...args], { encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 64 << 20, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** `vforkcheck gate ARGS --report <scratch>/gate.json` and what its report says (no results when it wrote none). */
export async function gateCli(t: { teardown(fn: () => void): void }, args: readonly string[], timeoutMs = 280_000): Promise<GateCliRun> {
  const report = join(scratchDirectory(t, "vfc-gate-"), "gate.json");
  const run = await vforkcheckCli(["gate", ...args, "--report", report], timeoutMs);
  const parsed = existsSync(report) ? (JSON.parse(readFileSync(report, "utf8")) as Pick<GateCliRun, "results" | "implementations" | "knownFindings">) : { results: [], implementations: [] };
  return { status: run.status, ...parsed, output: `${run.stdout}\n${run.stderr}`.slice(-3000), seconds: run.seconds };
}
