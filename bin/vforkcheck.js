#!/usr/bin/env node
// The `vforkcheck` command. In a source checkout (harness/cli/vforkcheck.ts beside
// this file) it runs the TypeScript sources under tsx, resolved from this project,
// so a checkout never runs a stale dist/. In the npm package, which carries no
// sources, it runs their compiled form in dist/ with node alone.
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const sources = fileURLToPath(new URL("../harness/cli/vforkcheck.ts", import.meta.url));
const compiled = fileURLToPath(new URL("../dist/harness/cli/vforkcheck.js", import.meta.url));
const nodeArguments = existsSync(sources) ? [`--import=${import.meta.resolve("tsx")}`, sources] : [compiled];

// TMPDIR is checked here, before anything runs: tsx makes its cache under it
// (creating a missing TMPDIR, or dying on one that is a file) before the
// harness's own check (harness/process/machine-faults.ts, worded as there)
// could say so. The caller's environment: broken, exit 3.
const temporary = process.env.TMPDIR;
if (temporary) {
  const problem = !existsSync(temporary) ? "does not exist (ENOENT)" : !statSync(temporary).isDirectory() ? "is not a directory (ENOTDIR)" : undefined;
  if (problem) {
    console.error(`vforkcheck: broken: TMPDIR=${temporary} ${problem}; set TMPDIR to a writable directory, or unset it (then /tmp)`);
    process.exit(3);
  }
}

// The harness stops with its report should this process be SIGKILLed (harness/process/run-cleanup.ts).
const child = spawn(process.execPath, [...nodeArguments, ...process.argv.slice(2)], { stdio: "inherit", env: { ...process.env, VFORKCHECK_WRAPPER_PID: String(process.pid) } });

// A signal sent to this process alone (kill, a CI timeout) is passed on. Ctrl-C
// at a terminal reaches both processes, so the child sees it twice: its clean-up
// (harness/process/run-cleanup.ts) runs once, and the second waits for it.
// This process stays until the child has exited, however many signals come.
/** @type {NodeJS.Signals[]} */
const forwardedSignals = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];
for (const signal of forwardedSignals) process.on(signal, () => child.kill(signal));

child.on("error", (error) => {
  console.error(`vforkcheck: cannot start ${process.execPath}: ${error.message}`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  if (signal === null) process.exit(code ?? 1);
  // Die of the same signal, so whoever started us sees what really happened.
  for (const forwarded of forwardedSignals) process.removeAllListeners(forwarded);
  process.kill(process.pid, signal);
});
