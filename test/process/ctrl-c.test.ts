// Ctrl-C as a terminal sends it: SIGINT to the whole process group, so the
// command's wrapper (bin/vforkcheck.js), the harness, and every driver get it
// at once, and the harness gets the wrapper's copy too. At each moment of a
// host gate it keeps every finished result (and the running property's cases)
// in a whole report, exits 130 and leaves nothing running; until then an
// earlier report at the same path stays as it was. A SIGTERM to the wrapper
// alone does the same, and so does a SIGKILL to the wrapper alone, which it
// cannot pass on: the harness sees itself reparented.
import test, { type ExecutionContext } from "ava";
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { descendantsOf, waitUntilDead } from "../../harness/process/process-tree.ts";
import { snapshotProcesses, stillRunning, type ProcessIdentity } from "../helpers/process-snapshot.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";

// Two properties: descriptor-table (2-8 s at 100 runs here, idle to loaded) and then signal-state (2-4 s).
const gateArguments = ["gate", "--tier", "host", "--arch", "amd64", "--no-in-process", "--property", "descriptor-table,signal-state", "--runs", "100", "--seed", "1"];
const earlierReport = `${JSON.stringify({ earlier: "a report an earlier run wrote" }, null, 2)}\n`;

interface PartialReport {
  partial?: boolean;
  results: { property: string; status: string }[];
  inProgress?: { target: string; property: string; status: string; cases: number; runs: number; failing_cases: number }[];
  targets: { target: string }[];
}

interface StoppedGate {
  code: number | null;
  stderr: string;
  /** The properties whose result line was on stderr when the signal was sent. */
  finishedBefore: string[];
  /** The earlier report was still there, byte for byte, when the signal was sent. */
  earlierIntact: boolean;
  report: PartialReport;
  left: string[];
  /** What is in the report's directory besides the report (a temporary name left over would be here). */
  besideReport: string[];
  /** vforkcheck's own directories left under TMPDIR. */
  tmpLeft: string[];
}

/** Whether the gate's driver (the process that serves the cases) is up: the target has started. */
const driverRunning = (pid: number) => snapshotProcesses(descendantsOf(pid)).some((process) => process.command.includes("vforkcheck-driver --driver"));

/** How the stop is sent: Ctrl-C (SIGINT to the whole group) by default, `times` times. */
interface Stop {
  times?: number;
  signal?: NodeJS.Signals;
  /** To the wrapper alone (a kill, a CI runner's timeout), not to its group. */
  wrapperOnly?: boolean;
}

/**
 * Starts the gate in a process group of its own, as a terminal's foreground job, and when `due` says so (checked
 * every 50 ms, with the stderr so far and the wrapper's pid), sends the stop.
 */
async function stopGate(t: ExecutionContext, due: (stderr: string, pid: number) => boolean, { times = 1, signal = "SIGINT", wrapperOnly = false }: Stop = {}): Promise<StoppedGate> {
  const scratch = scratchDirectory(t, "vfc-ctrl-c-");
  const reportDirectory = join(scratch, "reports");
  const temporary = join(scratch, "tmp");
  for (const directory of [reportDirectory, temporary]) mkdirSync(directory);
  const report = join(reportDirectory, "gate.json");
  writeFileSync(report, earlierReport);
  const gate = spawn(process.execPath, ["bin/vforkcheck.js", ...gateArguments, "--report", report], { detached: true, env: { ...process.env, TMPDIR: temporary }, stdio: ["ignore", "ignore", "pipe"] });
  const pid = gate.pid!;
  let stderr = "";
  gate.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => gate.on("exit", (code) => resolve(code)));
  const stderrClosed = new Promise<void>((resolve) => gate.stderr.on("close", () => resolve()));
  // Nothing here may hang the suite: the whole group goes at 120 s.
  const killer = setTimeout(() => process.kill(-pid, "SIGKILL"), 120_000);
  let running: ProcessIdentity[] = [];
  let finishedBefore: string[] = [];
  let earlierIntact = false;
  const signalled = new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (gate.exitCode !== null || !due(stderr, pid)) return;
      clearInterval(poll);
      finishedBefore = [...stderr.matchAll(/\] (\S+) \d+\/\d+: \w+ \(/g)].map((match) => match[1]!);
      earlierIntact = readFileSync(report, "utf8") === earlierReport;
      running = snapshotProcesses(descendantsOf(pid));
      for (let time = 0; time < times; time++) process.kill(wrapperOnly ? pid : -pid, signal);
      resolve();
    }, 50);
    void exited.then(() => (clearInterval(poll), resolve()));
  });
  await signalled;
  const code = await exited;
  // The harness may outlive the wrapper (a SIGKILL to the wrapper alone): done when nothing holds the stderr pipe any more.
  await stderrClosed;
  clearTimeout(killer);
  return {
    code,
    stderr,
    finishedBefore,
    earlierIntact,
    report: JSON.parse(readFileSync(report, "utf8")) as PartialReport,
    left: stillRunning(running),
    besideReport: readdirSync(reportDirectory).filter((name) => name !== "gate.json"),
    tmpLeft: readdirSync(temporary).filter((name) => name.startsWith("vforkcheck-")),
  };
}

/** What every stop must show: exit 128+signal after one clean-up, a whole partial report with every result finished before the signal, the earlier report untouched until then, nothing left. */
function assertStoppedWhole(t: ExecutionContext, stopped: StoppedGate, signal: "SIGINT" | "SIGTERM" = "SIGINT"): void {
  const context = stopped.stderr.slice(-2000);
  t.is(stopped.code, { SIGINT: 130, SIGTERM: 143 }[signal], context);
  t.is(stopped.stderr.match(new RegExp(`${signal}: cleaning up`, "g"))?.length, 1, `one clean-up however many signals: ${context}`);
  t.true(stopped.earlierIntact, "the earlier report was still whole when the signal came");
  t.true(stopped.report.partial, context);
  const kept = stopped.report.results.map((result) => result.property);
  for (const property of stopped.finishedBefore) t.true(kept.includes(property), `${property} finished before the signal and is in the report: ${context}`);
  for (const record of stopped.report.inProgress ?? []) {
    t.false(kept.includes(record.property), "a property in progress is not also a result");
    t.is(record.status, "in progress");
    t.true(record.cases <= record.runs * 10, `${record.cases} cases of ${record.runs}`);
  }
  t.deepEqual(stopped.left, [], "no driver, strace or child outlived the gate");
  t.deepEqual(stopped.besideReport, [], "no temporary report left beside it");
  t.deepEqual(stopped.tmpLeft, [], "no fixture directory left");
}

const startLine = (stderr: string) => stderr.includes("vforkcheck gate: seed 1");
const firstDone = (stderr: string) => /descriptor-table 1\/2: \w+ \(/.test(stderr);

/** `ready` then `ms` more: polled, so the wait starts when `ready` is first seen. */
function after(ms: number, ready: (stderr: string, pid: number) => boolean): (stderr: string, pid: number) => boolean {
  let since: number | undefined;
  return (stderr, pid) => {
    if (since === undefined && ready(stderr, pid)) since = Date.now();
    return since !== undefined && Date.now() - since >= ms;
  };
}

test("Ctrl-C during the set-up: a partial report with no result, nothing left", async (t) => {
  const stopped = await stopGate(t, startLine);
  assertStoppedWhole(t, stopped);
  t.deepEqual(stopped.report.results, []);
  // How long the run would have taken is said before it starts.
  t.regex(stopped.stderr, /vforkcheck gate: seed 1, 100 runs, 1 targets, 2 properties; about \d+ (s|min)[^\n]* \(estimate\)\n/);
});

test("Ctrl-C during the first property: its cases so far are kept, marked in progress, with the target's summary", async (t) => {
  const stopped = await stopGate(t, after(500, (_, pid) => driverRunning(pid)));
  assertStoppedWhole(t, stopped);
  t.deepEqual(stopped.report.results, [], stopped.stderr);
  t.like(stopped.report.inProgress?.[0], { target: "amd64/host", property: "descriptor-table", status: "in progress", runs: 100, failing_cases: 0 });
  t.true((stopped.report.inProgress?.[0]?.cases ?? 0) >= 1, JSON.stringify(stopped.report.inProgress));
  t.deepEqual(stopped.report.targets.map((target) => target.target), ["amd64/host"]);
});

test("Ctrl-C right after the first property finished keeps its result and the target's summary", async (t) => {
  const stopped = await stopGate(t, firstDone);
  assertStoppedWhole(t, stopped);
  t.deepEqual(stopped.finishedBefore, ["descriptor-table"]);
  t.deepEqual(stopped.report.targets.map((target) => target.target), ["amd64/host"]);
});

test("Ctrl-C during the last property keeps the first's result and the last's cases so far", async (t) => {
  const stopped = await stopGate(t, after(500, firstDone));
  assertStoppedWhole(t, stopped);
  t.deepEqual(stopped.report.results.map((result) => result.property), ["descriptor-table"], stopped.stderr);
  t.like(stopped.report.inProgress?.[0], { property: "signal-state", status: "in progress", failing_cases: 0 });
  t.true((stopped.report.inProgress?.[0]?.cases ?? 0) >= 1, JSON.stringify(stopped.report.inProgress));
});

test("Ctrl-C twice in a row (four SIGINTs at the harness) still writes the whole report once", async (t) => {
  const stopped = await stopGate(t, firstDone, { times: 2 });
  assertStoppedWhole(t, stopped);
  t.true(stopped.report.results.some((result) => result.property === "descriptor-table"));
});

test("SIGTERM to the wrapper alone is passed on: the same whole report, exit 143", async (t) => {
  const stopped = await stopGate(t, firstDone, { signal: "SIGTERM", wrapperOnly: true });
  assertStoppedWhole(t, stopped, "SIGTERM");
  t.true(stopped.report.results.some((result) => result.property === "descriptor-table"));
});

test("SIGKILL to the wrapper alone (a runner's hard timeout): the harness sees it gone and stops with the whole report", async (t) => {
  const stopped = await stopGate(t, firstDone, { signal: "SIGKILL", wrapperOnly: true });
  const context = stopped.stderr.slice(-2000);
  t.is(stopped.code, null, "the wrapper died of the SIGKILL");
  t.regex(stopped.stderr, /the vforkcheck command that started this run \(pid \d+\) was killed: cleaning up and stopping/, context);
  t.true(stopped.earlierIntact);
  t.true(stopped.report.partial, context);
  t.true(stopped.report.results.some((result) => result.property === "descriptor-table"), context);
  t.deepEqual(stopped.left, [], "no driver, strace or child outlived the gate");
  t.deepEqual(stopped.besideReport, []);
  t.deepEqual(stopped.tmpLeft, []);
});

test("a gate SIGKILLed right after its start leaves the earlier report whole", async (t) => {
  const scratch = scratchDirectory(t, "vfc-ctrl-c-");
  const report = join(scratch, "gate.json");
  writeFileSync(report, earlierReport);
  const gate = spawn(process.execPath, ["bin/vforkcheck.js", ...gateArguments, "--report", report], { detached: true, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const exited = new Promise<void>((resolve) => gate.on("exit", () => resolve()));
  // After the start line the report has been checked for writing, and before, it used to be truncated here.
  await new Promise<void>((resolve) => {
    gate.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (startLine(stderr)) resolve();
    });
    void exited.then(resolve);
  });
  const running = snapshotProcesses(descendantsOf(gate.pid!));
  process.kill(-gate.pid!, "SIGKILL");
  await exited;
  // The wrapper's exit says nothing of the harness's: a SIGKILL is delivered to each in its own time.
  waitUntilDead(running.map((process) => process.pid), 5000);
  t.true(startLine(stderr), stderr);
  t.is(readFileSync(report, "utf8"), earlierReport);
  t.deepEqual(readdirSync(scratch), ["gate.json"]);
  t.deepEqual(stillRunning(running), []);
});
