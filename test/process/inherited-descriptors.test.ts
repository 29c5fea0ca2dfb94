// Descriptors a user's shell or CI runner leaks into vforkcheck (open,
// without close-on-exec) must not change a verdict. Go's ForkExec dup3s its
// error pipe and moved sources onto the numbers just above its Files table,
// so a leaked descriptor sitting there vanished from the child while the
// oracle, told by the hello that the driver holds it, expected it: Go's
// signal-state failed with "child open descriptors: got [...], expected
// [..., 251]". Each process here starts through a shell that closes every
// descriptor above 2 and then opens the ones asked for, so the tables are
// exactly what the test says, whatever this test's own process inherited.
import test from "ava";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildNative } from "../../harness/build/build.ts";
import { projectRoot } from "../../harness/process/project-root.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";

/**
 * What shells and job runners leak (10, 251), and descriptors just above the
 * table of a case Go's signal-state draws with seed 1 (report descriptor
 * 247, /dev/null on 239): ForkExec reuses 249-251.
 */
const leaked = [10, 249, 250, 251];

/** bash that closes every descriptor above 2, opens /dev/null on each of `open` (not close-on-exec), then runs its arguments. */
function withDescriptors(open: readonly number[]): string[] {
  const closeAll = 'for fd in /proc/$$/fd/*; do fd=${fd##*/}; if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi; done';
  const opens = open.map((fd) => `exec ${fd}</dev/null`).join("; ");
  return ["/bin/bash", "-c", `${closeAll}; ${opens}${opens ? "; " : ""}exec "$@"`, "with-descriptors"];
}

/** A shell's own table, listed by ls as its child (the `:` keeps bash from exec'ing ls, whose directory would show). */
const listOwnDescriptors = "ls /proc/$$/fd; :";

/** The descriptors a process started through withDescriptors holds. */
function descriptorsUnder(open: readonly number[]): number[] {
  const [shell, ...args] = withDescriptors(open);
  const run = spawnSync(shell!, [...args, "/bin/bash", "-c", listOwnDescriptors], { encoding: "utf8", timeout: 10_000 });
  return run.stdout.split(/\s+/).filter(Boolean).map(Number).sort((a, b) => a - b);
}

interface GateRun {
  status: number | null;
  rows: { property: string; status: string; runs: number; reason: string }[];
  output: string;
}

/** `vforkcheck gate ARGS` through withDescriptors(open), and its report's rows. */
function gateWith(directory: string, open: readonly number[], args: readonly string[]): Promise<GateRun> {
  const report = join(directory, `gate-${open.length}.json`);
  const [shell, ...shellArgs] = withDescriptors(open);
  const child = spawn(shell!, [...shellArgs, process.execPath, "--import=tsx", "harness/cli/vforkcheck.ts", "gate", ...args, "--report", report], {
    cwd: projectRoot,
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 240_000,
    killSignal: "SIGKILL",
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-3000)));
  child.stderr.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-3000)));
  return new Promise((resolve) => {
    child.once("close", (status) => {
      const rows = existsSync(report) ? (JSON.parse(readFileSync(report, "utf8")) as { results: GateRun["rows"] }).results : [];
      resolve({ status, rows: rows.map(({ property, status, runs, reason }) => ({ property, status, runs, reason })), output });
    });
  });
}

test("the wrapper gives a process exactly stdio and the descriptors asked for", (t) => {
  t.deepEqual(descriptorsUnder([]), [0, 1, 2]);
  t.deepEqual(descriptorsUnder(leaked), [0, 1, 2, ...leaked]);
});

test("descriptors inherited without close-on-exec are marked once: children no longer get them, the process keeps its own", (t) => {
  const module = join(projectRoot, "harness", "process", "inherited-descriptors.ts");
  const script = `
    const { closeInheritedDescriptorsOnExec, inheritableDescriptors } = await import(${JSON.stringify(module)});
    const { spawnSync } = await import("node:child_process");
    const { fstatSync } = await import("node:fs");
    const childHolds = () => spawnSync("/bin/bash", ["-c", ${JSON.stringify(listOwnDescriptors)}], { encoding: "utf8" }).stdout.split(/\\s+/).filter(Boolean).map(Number).sort((a, b) => a - b);
    const before = { inheritable: inheritableDescriptors(), child: childHolds() };
    const marked = closeInheritedDescriptorsOnExec();
    const again = closeInheritedDescriptorsOnExec();
    const after = { inheritable: inheritableDescriptors(), child: childHolds(), stillOpen: fstatSync(77).isCharacterDevice() };
    console.log(JSON.stringify({ before, marked, again, after }));`;
  const [shell, ...args] = withDescriptors([77]);
  const run = spawnSync(shell!, [...args, process.execPath, "--import=tsx", "--input-type=module", "-e", script], { cwd: projectRoot, encoding: "utf8", timeout: 60_000 });
  t.is(run.status, 0, run.stderr);
  const seen = JSON.parse(run.stdout) as Record<string, unknown>;
  t.deepEqual(seen, {
    before: { inheritable: [77], child: [0, 1, 2, 77] },
    marked: [77],
    again: [77],
    after: { inheritable: [], child: [0, 1, 2], stillOpen: true },
  });
});

// The gate's verdicts for Go with descriptors leaked where ForkExec puts its
// own are those of a clean table, case for case (the same cases are drawn:
// leaked descriptors are no longer reserved from the drawn tables).
test("Go's gate with leaked descriptors gives the verdicts of a clean descriptor table", async (t) => {
  const directory = scratchDirectory(t, "vfc-inherited-fds-");
  const args = ["--impl", "go", "--arch", "amd64", "--tier", "host", "--no-in-process", "--property", "descriptor-table,signal-state", "--runs", "30", "--seed", "1", "--case-deadline", "5"];
  const clean = await gateWith(directory, [], args);
  const leaky = await gateWith(directory, leaked, args);
  t.is(clean.rows.length, 2, clean.output);
  t.true(
    clean.rows.every((row) => row.runs > 0),
    "both properties ran cases",
  );
  t.deepEqual(leaky.rows, clean.rows, leaky.output);
  t.is(leaky.status, clean.status, leaky.output);
});

// Whatever the caller leaked, a driver starts with stdio and the harness's
// own channels alone: the reference driver, started through --impl-cmd by a
// shell that first lists its own table (the table the driver then has:
// stdio, the protocol on 0 and 1), from
// a clean start and from one holding the leaked descriptors.
test("a driver's descriptor table is the same from a leaky shell as from a clean one: stdio alone", async (t) => {
  const directory = scratchDirectory(t, "vfc-driver-fds-");
  const driver = await buildNative({ arch: "amd64", kind: "static" });
  const tables: Record<string, number[]> = {};
  for (const [name, open] of [["clean", []], ["leaky", [...leaked, 77]]] as const) {
    const listing = join(directory, `driver-fds-${name}`);
    // The subshell redirects its own output: sh's table stays as the driver gets it.
    const command = `(ls /proc/$$/fd > ${JSON.stringify(listing)}); exec ${JSON.stringify(driver)} --driver`;
    const run = await gateWith(directory, open, ["--impl-cmd", command, "--property", "descriptor-table", "--runs", "5", "--seed", "1"]);
    t.is(run.status, 0, run.output);
    tables[name] = readFileSync(listing, "utf8").split(/\s+/).filter(Boolean).map(Number).sort((a, b) => a - b);
  }
  t.deepEqual(tables, { clean: [0, 1, 2], leaky: [0, 1, 2] });
});
