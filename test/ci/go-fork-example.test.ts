/**
 * The Go-fork example (docs/examples/go-fork.yml) does what its comments say:
 * a fork of Go's master whose `go version` says devel, carrying only
 * upstream's bugs, is green through the action's own steps with the
 * example's inputs; the same fork with one change of its own to
 * syscall/exec_linux.go is red, with an ::error annotation for that change's
 * failure and no failure of upstream's.
 *
 * The inputs are read from the example's call of the action and its host
 * cell, reduced only to stay cheap: amd64 alone of the cell's amd64,386. The
 * example's build step (src/make.bash) is not run: the fork is a copy of the
 * go1.26 release's built tree whose VERSION says devel
 * (test/implementations/go-tree.ts develGoTree). The action's steps run as
 * the runner runs them (test/helpers/composite-action.ts); GitHub's own
 * actions (setup-node, cache, upload-artifact) are not run.
 */
import test from "ava";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { projectRoot } from "../../harness/process/project-root.ts";
import { copyCheckout, runCompositeAction, runnerEnvironment, type Step } from "../helpers/composite-action.ts";
import { develGoTree } from "../implementations/go-tree.ts";

interface ExampleJob {
  strategy: { matrix: { include: Record<string, string | number>[] } };
  steps: Step[];
}

const example = parse(readFileSync(join(projectRoot, "docs/examples/go-fork.yml"), "utf8")) as { jobs: Record<string, ExampleJob> };
const job = Object.values(example.jobs)[0]!;
const call = job.steps.find((step) => step.uses?.includes("/vforkcheck@"))!;
const cells = job.strategy.matrix.include;
const hostCell = cells.findIndex((cell) => cell.tiers === "host");

/** The action's inputs for one cell of the example: `${{ matrix.NAME }}` and `${{ strategy.job-index }}` expanded; any other expression refused. */
function cellInputs(index: number): Record<string, string> {
  const cell = cells[index]!;
  return Object.fromEntries(
    Object.entries(call.with ?? {}).map(([name, value]) => [
      name,
      String(value).replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expression: string) => {
        if (expression === "strategy.job-index") return String(index);
        const matrix = /^matrix\.([\w-]+)$/.exec(expression);
        if (matrix && cell[matrix[1]!] !== undefined) return String(cell[matrix[1]!]);
        throw new Error(`go-fork.yml: input ${name}: expression '${expression}' is not one of the cell's`);
      }),
    ]),
  );
}

/** The call's inputs for the host cell, with amd64 alone of its architectures and 20 cases per property (the example's 50 cost 2.5 times as long; npm test has 10 minutes). */
function reducedHostInputs(): Record<string, string> {
  const inputs = cellInputs(hostCell);
  if (!inputs.architectures!.split(",").includes("amd64")) throw new Error(`go-fork.yml: the host cell's architectures (${inputs.architectures}) have no amd64`);
  return { ...inputs, architectures: "amd64", runs: "20" };
}

/** This edit to go1.26's syscall/exec_linux.go makes the child skip its chdir: a spawn with a directory runs the program where the parent is. */
const chdir = "\tif dir != nil {\n\t\t_, _, err1 = RawSyscall(SYS_CHDIR";
const skippedChdir = "\tif false && dir != nil {\n\t\t_, _, err1 = RawSyscall(SYS_CHDIR";

interface Report {
  results: { target: string; property: string; status: string; reason: string; counterexample: string | null; problems?: string[] }[];
}

const scratch = mkdtempSync(join(tmpdir(), "vforkcheck-go-fork-example-"));
test.after.always(() => rmSync(scratch, { recursive: true, force: true }));
const actionPath = join(scratch, "action");

/** The example's job for the fork in `tree`: the action's steps with the reduced host cell's inputs, in the fork's checkout. */
function runExample(tree: string, name: string, reuse: readonly string[] = []) {
  if (!cells.length || hostCell < 0) throw new Error("go-fork.yml has no host cell");
  const runnerTemp = join(scratch, `runner-temp-${name}`);
  const stepFiles = join(scratch, `steps-${name}`);
  mkdirSync(runnerTemp);
  mkdirSync(stepFiles);
  const started = Date.now();
  const run = runCompositeAction(actionPath, reducedHostInputs(), stepFiles, runnerEnvironment(runnerTemp), tree, reuse);
  const gate = run.steps.find((step) => step.id === "gate");
  const annotate = run.steps.find((step) => step.id === "annotate");
  const report = gate?.outputs["exit-code"] === undefined ? undefined : (JSON.parse(readFileSync(gate.outputs.report!, "utf8")) as Report);
  return { run, gate, annotate, report, seconds: (Date.now() - started) / 1000 };
}

test.before(() => copyCheckout(actionPath));

const upstreamLine = (report: Report | undefined) =>
  `not pass: ${(report?.results ?? []).filter((result) => result.status !== "pass").map((result) => `${result.property} ${result.status}`).join(", ")}`;

test.serial("the example's inputs on a devel Go fork with only upstream's bugs: green, upstream's failures kept as baseline or known", async (t) => {
  t.timeout(15 * 60_000, "make.bash of the devel tree when it is not cached, the package's install and the gate");
  t.is(call.with?.baseline ?? "", "go@1.26", "the example compares with go1.26, the release the devel tree is built from");
  const fork = await develGoTree(join(scratch, "upstream"));
  t.regex(execFileSync(join(fork, "bin", "go"), ["version"], { encoding: "utf8" }), /^go version devel /);
  const { run, gate, annotate, report, seconds } = runExample(fork, "upstream");
  t.log(`the action's steps took ${seconds.toFixed(0)} s; ${upstreamLine(report)}`);
  t.is(gate?.status, 0, `${gate?.stderr.slice(-3000)}\n${gate?.stdout.slice(-3000)}`);
  t.is(annotate?.stdout, "", "nothing to annotate");
  t.deepEqual(report!.results.filter((result) => result.status === "fail").map((result) => `${result.property}: ${result.reason}`), []);
  // Green because upstream's failures were told apart, not because none was met.
  const upstream = report!.results.filter((result) => result.status === "baseline" || result.status === "known");
  t.true(upstream.length > 0, `no baseline or known result: ${report!.results.map((result) => `${result.property} ${result.status}`).join(", ")}`);
  t.regex(run.summary, /baseline|known/);
});

test.serial("the same fork with the child's chdir skipped: red, one ::error per failure, every failure the mutant's (a directory given, the child's cwd wrong)", async (t) => {
  t.timeout(10 * 60_000, "the package's install and the gate");
  const fork = await develGoTree(join(scratch, "mutant"), [[chdir, skippedChdir]]);
  // The package the first test installed, when it ran: installing it again would test nothing more.
  const { gate, annotate, report, seconds } = runExample(fork, "mutant", ["install"]);
  t.log(`the action's steps took ${seconds.toFixed(0)} s`);
  t.is(gate?.status, 1, `${gate?.stderr.slice(-3000)}`);
  t.is(gate?.outputs["exit-code"], "1");
  const failures = report!.results.filter((result) => result.status === "fail");
  t.log(`failed: ${failures.map((result) => result.property).join(", ")}`);
  t.true(failures.length > 0);
  // parent-resumes spawns in a directory with an existing program; upstream go1.26 passes it.
  const parentResumes = failures.find((result) => result.property === "parent-resumes");
  t.truthy(parentResumes, `parent-resumes did not fail: ${failures.map((result) => result.property).join(", ")}`);
  t.regex(parentResumes!.reason, /child cwd: got /);
  for (const failure of failures) {
    const shrunk = JSON.parse(failure.counterexample!.split("\n")[0]!) as { cwd: string };
    t.not(shrunk.cwd, "none", `${failure.property}: the shrunk case gives the child a directory, the one thing the mutant changes (${failure.reason})`);
  }
  // One annotation per failure, titled by target and property.
  const lines = annotate!.stdout.trimEnd().split("\n");
  t.is(lines.length, failures.length, annotate!.stdout);
  for (const failure of failures) t.true(lines.some((line) => line.startsWith(`::error title=vforkcheck ${failure.target.replace(/:/g, "%3A").replace(/,/g, "%2C")} ${failure.property}::`)), failure.property);
  t.true(lines.some((line) => /::error title=[^:]* parent-resumes::.*child cwd: got /.test(line)));
});
