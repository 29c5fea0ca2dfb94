// Hostile implementations (test/fixtures/hostile/driver.py through --impl-cmd, and
// test/fixtures/hostile/system-driver.c through --impl-binary on arm64/system): each gets its
// documented exit code and one verdict line, in about its case deadline, and no process of the
// run is left, not even a setsid one or a VM.
import test from "ava";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { findArchitecture } from "../../src/architectures.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";
import { buildDriverSkeleton } from "../../harness/build/driver-skeleton.ts";
import { removeFixturesOfDeadRuns } from "../../harness/build/fixtures.ts";
import { LineChannel, LineTooLongError } from "../../harness/targets/line-channel.ts";
import { startTarget } from "../../harness/targets/start-target.ts";
import type { QemuSystemTarget } from "../../harness/targets/system-target.ts";
import { descendantsOf } from "../../harness/process/process-tree.ts";
import { hostileDriverCommand, leftBehind, processesMarkedWith, runVforkcheck, uniqueMarker, verdictLines, type CommandRun } from "../helpers/marked-run.ts";
import { snapshotProcesses, stillRunning } from "../helpers/process-snapshot.ts";

// The runs' reports go here, removed at the end.
const reports = mkdtempSync(join(tmpdir(), "vfc-hostile-"));
test.after.always(() => rmSync(reports, { recursive: true, force: true }));

function gateArgs(mode: string, marker: string, runs = 2): string[] {
  return ["gate", "--arch", "amd64", "--tier", "host", "--property", "parent-resumes", "--runs", String(runs), "--seed", "1", "--case-deadline", "3", "--report", join(reports, `${marker}.json`), "--impl-cmd", hostileDriverCommand(mode, marker)];
}

const cases = [
  { mode: "garbage-hello", exitCode: 2, verdict: /^vforkcheck: amd64\/host\/cmd: malformed answer from the implementation: expected 'hello' in "HTTP\/1\.1 200 OK"$/ },
  { mode: "crash-at-start", exitCode: 1, verdict: /^vforkcheck: amd64\/host\/cmd: the driver crashed during hello \(signal SIGSEGV\)/ },
  { mode: "exit-at-start", exitCode: 1, verdict: /^vforkcheck: amd64\/host\/cmd: the driver exited during hello \(exit 3\); last stderr line: hostile driver: exiting at start$/ },
  { mode: "long-line", exitCode: 2, verdict: /^vforkcheck: amd64\/host\/cmd: malformed answer from the implementation: answer longer than 33554432 bytes \(the protocol's line limit\)/ },
  // Never begins a case, and leaves a setsid'd helper that ignores SIGTERM: said at the first case's deadline, not
  // shrunk as a hang case after case; the helper is named, and killed.
  {
    mode: "setsid-hang",
    exitCode: 2,
    verdict:
      /^vforkcheck: amd64\/host\/cmd: malformed answer from the implementation: no answer and no start marker within 3 s: the driver did not begin the case .*; killed with it: 1 process it had left running outside its own tree \(\d+ \S*python3 test\/fixtures\/hostile\/driver\.py setsid-hang\); the case in "case id=/,
  },
  // Crashes on every case: the target restarts it each time, and each start leaves a setsid helper behind unless the run
  // contains it. The helper holds the driver's standard output open, so only the observer says the driver died.
  { mode: "setsid-crash", exitCode: 1, verdict: undefined, reason: /\bthe driver died during the case \(a process it left running kept its standard output open: \d+ \S*python3 test\/fixtures\/hostile\/driver\.py setsid-crash\)$/m },
] as const;

/** The host's mounts (mount point, type, source): a driver's namespace must not add or change any. */
function hostMounts(): string {
  return readFileSync("/proc/self/mountinfo", "latin1")
    .split("\n")
    .map((line) => line.split(" ").slice(4).join(" "))
    .sort()
    .join("\n");
}

for (const entry of cases) {
  const { mode, exitCode, verdict } = entry;
  test.serial(`${mode}: exit ${exitCode}, one line, nothing left`, async (t) => {
    const marker = uniqueMarker(mode);
    const mountsBefore = hostMounts();
    const run = runVforkcheck(gateArgs(mode, marker));
    t.is(hostMounts(), mountsBefore, "the host's mounts changed");
    t.is(run.status, exitCode, run.stderr);
    if (verdict) {
      t.is(verdictLines(run.stderr).length, 1, run.stderr);
      t.regex(verdictLines(run.stderr)[0]!, verdict);
    } else {
      // A property failure: its one FAIL line (with the replay command) is the verdict.
      t.deepEqual(verdictLines(run.stderr), []);
      t.is(run.stdout.split("\n").filter((line) => line.startsWith("FAIL ")).length, 1, run.stdout);
      t.regex(run.stdout, /^FAIL amd64\/host\/cmd parent-resumes: replay with: /m);
      if ("reason" in entry) t.regex(run.stderr, entry.reason);
    }
    t.deepEqual(await leftBehind(marker), []);
  });
}

test.serial("setsid-hang: said at the first case's deadline, under either containment", async (t) => {
  for (const env of [{}, subreaper]) {
    const marker = uniqueMarker("setsid-hang-time");
    const run = runVforkcheck(gateArgs("setsid-hang", marker), 120_000, env);
    t.is(run.status, 2, run.stderr);
    t.regex(verdictLines(run.stderr)[0] ?? "", /killed with it: 1 process/);
    t.true(run.seconds < 30, `${run.seconds} s`);
    t.deepEqual(await leftBehind(marker), []);
  }
});

test.serial("long-line: said at once, not at the case's deadline", async (t) => {
  const marker = uniqueMarker("long-line-time");
  const run = runVforkcheck([...gateArgs("long-line", marker), "--case-deadline", "100"]);
  t.is(run.status, 2);
  t.true(run.seconds < 60, `${run.seconds} s`);
  t.deepEqual(await leftBehind(marker), []);
});

/** What a stuck run is running, for a failure message. */
function processTree(pid: number): string {
  return descendantsOf(pid)
    .map((child) => {
      try {
        return `${child} ${readFileSync(`/proc/${child}/cmdline`, "latin1").replaceAll("\0", " ").slice(0, 100)} [${readFileSync(`/proc/${child}/wchan`, "latin1")}]`;
      } catch {
        return `${child}`;
      }
    })
    .join("; ");
}

// The fallback where no PID namespace can be made (harness/targets/containment.ts), forced.
const subreaper = { VFORKCHECK_CONTAINMENT: "subreaper" };

test.serial("setsid-crash: the driver's death is said when it dies, not at the case's deadline, and the run ends without waiting on its helper", async (t) => {
  const marker = uniqueMarker("setsid-crash-time");
  // One deadline of 100 s would be the run's whole budget: a failing case, its shrink and the close all come well inside it.
  const run = runVforkcheck([...gateArgs("setsid-crash", marker), "--case-deadline", "100"], 100_000);
  t.is(run.status, 1, run.stderr);
  t.regex(run.stderr, /the driver died during the case \(a process it left running kept its standard output open: /);
  t.true(run.seconds < 60, `${run.seconds} s`);
  t.deepEqual(await leftBehind(marker), []);
});

test.serial("setsid-crash under the subreaper fallback: nothing left", async (t) => {
  const marker = uniqueMarker("setsid-crash-subreaper");
  const run = runVforkcheck(gateArgs("setsid-crash", marker), 120_000, subreaper);
  t.is(run.status, 1, run.stderr);
  t.deepEqual(await leftBehind(marker), []);
});

for (const [containment, env] of [["measured", {}], ["subreaper", subreaper]] as const) {
  test.serial(`a SIGKILLed harness takes its drivers and their setsid helpers with it (containment: ${containment})`, async (t) => {
    const marker = uniqueMarker(`harness-killed-${containment}`);
    // Its own temp directory: a SIGKILLed run cannot remove its fixtures; the next run's sweep does (checked below).
    const temporary = mkdtempSync(join(tmpdir(), "vfc-hostile-tmp-"));
    const gate = spawn(process.execPath, ["--import=tsx", "harness/cli/vforkcheck.ts", ...gateArgs("setsid-hang", marker), "--case-deadline", "100"], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...env, TMPDIR: temporary },
    });
    t.teardown(() => {
      gate.kill("SIGKILL");
      rmSync(temporary, { recursive: true, force: true });
    });
    let stderr = "";
    gate.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const waitFor = async (done: () => boolean, ms: number) => {
      for (const until = Date.now() + ms; Date.now() < until && !done(); ) await new Promise((resolve) => setTimeout(resolve, 100));
      return done();
    };
    // The driver and its helper: the two processes with the marker in their environment.
    t.true(await waitFor(() => processesMarkedWith(marker, ["environ"]).length >= 2, 60_000), `the driver and its helper never started; the gate said: ${stderr}; its processes: ${processTree(gate.pid!)}`);
    gate.kill("SIGKILL");
    t.deepEqual(await leftBehind(marker, 10_000), []);
    // Reaped first: until then the dead run's pid is a zombie, which counts as alive.
    if (gate.exitCode === null && gate.signalCode === null) await new Promise((resolve) => gate.once("exit", resolve));
    const killedRuns = readdirSync(temporary).filter((name) => name.startsWith(`vforkcheck-${gate.pid}-`));
    t.true(killedRuns.length > 0, "the killed run's fixture directory is still there");
    t.deepEqual(removeFixturesOfDeadRuns(temporary).sort(), killedRuns.sort(), "the next run's sweep removes exactly the dead run's fixtures");
    t.deepEqual(readdirSync(temporary).filter((name) => name.startsWith("vforkcheck-")), []);
  });
}

test("a line past the limit is an error at once; a logged one is cut", async (t) => {
  const answers = new PassThrough();
  const channel = new LineChannel(answers, undefined, 10);
  answers.write("short\n0123456789abc");
  t.is(await channel.next(1000), "short");
  const error = await t.throwsAsync(channel.next(1000));
  t.true(error instanceof LineTooLongError);
  t.regex(error!.message, /longer than 10 bytes/);

  const logs = new PassThrough();
  const logged: string[] = [];
  new LineChannel(logs, (line) => logged.push(line), 10);
  logs.write("0123456789abc");
  logs.write("def\nnext\n");
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(logged, ["0123456789", "next"]);
});

test("a console line cut at a limit chosen by its head is handed on as cut", async (t) => {
  const console = new PassThrough();
  const lines: [string, boolean][] = [];
  new LineChannel(console, (line, cut) => lines.push([line, cut]), (head) => (head.startsWith("result ") ? 100 : 8));
  console.write(`result ${"9".repeat(50)}\nxxxxxxxxxxxx`);
  console.write("yy\nshort\n");
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(lines, [[`result ${"9".repeat(50)}`, false], ["xxxxxxxx", true], ["short", false]]);
});

// The system tier: one arm64 VM per hostile driver, one after the other (a VM boots in a few seconds alone, far slower beside others).
const arm64 = findArchitecture("arm64")!;
const systemDriverSource = readFileSync("test/fixtures/hostile/system-driver.c", "utf8");
const hostileSystemDriver = (mode: string) => buildDriverSkeleton("arm64", `#define HOSTILE_${mode}\n${systemDriverSource}`);

/** `vforkcheck ARGS` with the marker in its environment (so in its VM's), its temporary files in a directory of its own. */
function runMarkedVforkcheck(args: readonly string[], marker: string, temporary: string): Promise<CommandRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import=tsx", "harness/cli/vforkcheck.ts", ...args], { encoding: "utf8", timeout: 240_000, killSignal: "SIGKILL", maxBuffer: 64 << 20, env: { ...process.env, VFC_HOSTILE_MARK: marker, TMPDIR: temporary } }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === "number" ? error.code : null) : 0, signal: error?.signal ?? null, stdout, stderr, seconds: (Date.now() - started) / 1000 });
    });
  });
}

const systemCases = [
  {
    mode: "CLOSE_STDOUT",
    verdict: /^vforkcheck: arm64\/system\/binary: malformed answer from the implementation: no answer and no start marker within 3 s: the driver did not begin the case .*; the case in "case id=/,
  },
  {
    mode: "FLOOD",
    verdict: /^vforkcheck: arm64\/system\/binary: malformed answer from the implementation: a console line longer than 65536 bytes that is no protocol line \(the driver writes without newlines\?\) in "x{120}"$/,
  },
  {
    mode: "FLOOD_IN_CASE",
    verdict: /^vforkcheck: arm64\/system\/binary: malformed answer from the implementation: a console line longer than 65536 bytes that is no protocol line \(the driver writes without newlines\?\) in "x{120}"$/,
  },
];

for (const { mode, verdict } of systemCases) {
  test.serial(`arm64/system, a driver that does ${mode.toLowerCase().replaceAll("_", " ")}: exit 2 and one line in about a case deadline and a boot, nothing left`, async (t) => {
    const marker = uniqueMarker(`system-${mode}`);
    const temporary = mkdtempSync(join(tmpdir(), "vfc-hostile-tmp-"));
    t.teardown(() => rmSync(temporary, { recursive: true, force: true }));
    const driver = await hostileSystemDriver(mode);
    const report = join(reports, `${marker}.json`);
    const run = await runMarkedVforkcheck(["gate", "--impl-binary", `arm64=${driver}`, "--tier", "system", "--property", "parent-resumes", "--runs", "2", "--seed", "1", "--case-deadline", "3", "--report", report], marker, temporary);
    t.is(run.status, 2, run.stderr.slice(-2000));
    t.is(verdictLines(run.stderr).length, 1, run.stderr.slice(-2000));
    t.regex(verdictLines(run.stderr)[0]!, verdict);
    // Measured idle: 13-16 s, the boot included.
    t.true(run.seconds < 60, `${run.seconds} s`);
    t.deepEqual(await leftBehind(marker), []);
    t.deepEqual(readdirSync(temporary).filter((name) => name.startsWith("vforkcheck-")), [], "the run's fixtures are gone");
  });
}

// One VM for both ways a case can stop it; each stop is said as soon as qemu exits, with the reason, and the VM is booted again.
test.serial("arm64/system, a case that crashes the kernel or forks until it cannot: the VM's stop is said at once, with its reason", async (t) => {
  const path = await hostileSystemDriver("STOP_VM");
  const target = (await startTarget({ architecture: arm64, tier: "system", inProcess: false, impl: "binary", implementation: { name: "binary", binaries: [{ architecture: "arm64", path }] }, defines: [], caseDeadlineMs: 20_000 }, 8 << 20)) as QemuSystemTarget;
  t.teardown(() => target.close());
  const stops = [
    { argv: ["panic"], reason: /^the VM stopped 0 s into the case \(qemu exited with 0\) and was booted again; console: .*Kernel panic - not syncing: sysrq triggered crash/ },
    { argv: ["fork"], reason: /^the VM stopped \d+ s into the case \(init: more tasks in a clone at once than the tracer has slots for\) and was booted again/ },
  ];
  for (const [index, { argv, reason }] of stops.entries()) {
    const spawnCase: SpawnCase = { path: "exec-target", argv, env: [], cwd: "none", setsid: false, setpgid: false, uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false, descriptors: [], cloneFlags: 0, unshareFlags: 0 };
    const started = Date.now();
    const run = await target.runCase(spawnCase);
    // The verdict came once qemu exited, not at init's 20 s deadline nor the harness's 50: the time less the boot after it.
    const untilStopMs = Math.round(Date.now() - started - target.machineStatistics().bootSeconds * 1000);
    t.log(`${argv[0]}: ${untilStopMs} ms to the verdict`);
    t.regex(run.failure ?? "", reason);
    t.true(untilStopMs < 10_000, `${argv[0]}: ${untilStopMs} ms to the verdict`);
    t.is(target.machineStatistics().boots, index + 2, "booted again");
  }
  // The VM and its launcher (the reference build in --die-with-parent mode).
  const processes = snapshotProcesses(descendantsOf(process.pid)).filter((each) => /qemu-system|--die-with-parent/.test(each.command));
  t.true(processes.length > 0, "the VM was found");
  await target.close();
  t.deepEqual(stillRunning(processes), []);
});
