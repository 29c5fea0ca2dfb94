#!/usr/bin/env node
// Runs harness/cli/vforkcheck.ts under tsx, so `npx vforkcheck` needs no compile step.
// tsx is resolved from this project, not from wherever the command is run.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const tsxLoader = import.meta.resolve("tsx");
const cli = fileURLToPath(new URL("../harness/cli/vforkcheck.ts", import.meta.url));

const child = spawn(process.execPath, [`--import=${tsxLoader}`, cli, ...process.argv.slice(2)], { stdio: "inherit" });

// A signal sent to this process alone (kill, a CI timeout) is passed on. Ctrl-C
// at a terminal reaches both processes, so the child may see it twice.
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
