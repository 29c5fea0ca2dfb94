// Hostile implementations (test/fixtures/hostile/driver.py through --impl-cmd): each gets its
// documented exit code and one verdict line, and no process of the run is left, not even a setsid one.
import test from "ava";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { removeFixturesOfDeadRuns } from "../../harness/build/fixtures.ts";
import { LineChannel, LineTooLongError } from "../../harness/targets/line-channel.ts";
import { descendantsOf } from "../../harness/process/process-tree.ts";
import { hostileDriverCommand, leftBehind, processesMarkedWith, runVforkcheck, uniqueMarker, verdictLines } from "../helpers/marked-run.ts";

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
  // Crashes on every case: the target restarts it each time, and each start leaves a setsid helper behind unless the run contains it.
  { mode: "setsid-crash", exitCode: 1, verdict: undefined },
] as const;

/** The host's mounts (mount point, type, source): a driver's namespace must not add or change any. */
function hostMounts(): string {
  return readFileSync("/proc/self/mountinfo", "latin1")
    .split("\n")
    .map((line) => line.split(" ").slice(4).join(" "))
    .sort()
    .join("\n");
}

for (const { mode, exitCode, verdict } of cases) {
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
    }
    t.deepEqual(await leftBehind(marker), []);
  });
}

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
