/**
 * action.yml's own steps, run as the runner runs them (test/helpers/
 * composite-action.ts) on a copy of this checkout: the install step packs and
 * installs the package, the gate step runs it with the inputs as flags, the
 * annotate step turns failures into ::error lines, the summary reaches the
 * job summary, also when the gate refuses its input. The refusals take the
 * first test's install step (when it ran) instead of installing again.
 * GitHub's own actions (setup-node, cache, upload-artifact) are not run here.
 */
import test from "ava";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copyCheckout, runCompositeAction, runnerEnvironment } from "../helpers/composite-action.ts";

const scratch = mkdtempSync(join(tmpdir(), "vforkcheck-action-steps-"));
test.after.always(() => rmSync(scratch, { recursive: true, force: true }));

test.serial("the action installs the packed package, gates host and user with the inputs, writes the summary and the reports", (t) => {
  const actionPath = join(scratch, "action");
  copyCheckout(actionPath);
  const runnerTemp = join(scratch, "runner-temp");
  mkdirSync(runnerTemp);
  const run = runCompositeAction(actionPath, { implementation: "reference", tiers: "host,user", architectures: "amd64,arm64", runs: "5", seed: "7", "report-name": "local" }, mkdtempSync(join(scratch, "work-")), runnerEnvironment(runnerTemp));
  t.deepEqual(run.steps.map((step) => [step.id, step.status]), [["cache-key", 0], ["install", 0], ["gate", 0], ["annotate", 0], ["step-6", 0]], run.steps.at(-1)!.stderr.slice(-2000));
  t.is(run.steps.find((step) => step.id === "annotate")!.stdout, "", "a passing run has nothing to annotate");
  t.deepEqual(run.skippedUses, ["actions/setup-node@v4", "actions/cache/restore@v4", "actions/upload-artifact@v4", "actions/cache/save@v4"]);
  const gate = run.steps.find((step) => step.id === "gate")!.outputs;
  t.is(gate["exit-code"], "0");
  t.true(gate.report!.startsWith(runnerTemp), "the reports go under $RUNNER_TEMP");
  const report = JSON.parse(readFileSync(gate.report!, "utf8")) as { seed: number; results: { target: string; status: string }[] };
  t.is(report.seed, 7);
  t.deepEqual([...new Set(report.results.map((result) => result.target))].sort(), ["amd64/host", "amd64/host/in-process", "arm64/user"]);
  t.true(report.results.every((result) => result.status === "pass" || result.status === "skip"));
  for (const file of [gate.junit!, gate.tap!]) t.true(existsSync(file), file);
  t.is(run.summary, readFileSync(gate.summary!, "utf8"));
  t.regex(run.summary, /\| arm64\/user \|/);
});

test.serial("an input the gate refuses: the gate step fails with exit 2, and the job summary says no summary was written", (t) => {
  const actionPath = join(scratch, "action");
  if (!existsSync(join(actionPath, "action.yml"))) copyCheckout(actionPath);
  const runnerTemp = join(scratch, "runner-temp-refused");
  mkdirSync(runnerTemp);
  const run = runCompositeAction(actionPath, { implementation: "reference", tiers: "kernel", "report-name": "refused" }, mkdtempSync(join(scratch, "work-")), runnerEnvironment(runnerTemp), undefined, ["install"]);
  const gate = run.steps.find((step) => step.id === "gate")!;
  t.is(gate.status, 2);
  t.is(gate.outputs["exit-code"], "2");
  t.regex(run.summary, /wrote no summary/);
  const annotate = run.steps.find((step) => step.id === "annotate")!;
  t.is(annotate.status, 0, "no report: the annotate step says so and leaves the failing to the gate's step");
  t.is(annotate.stdout, "");
  t.regex(annotate.stderr, /^ci\/annotate\.ts: no report at .*refused\.json: the gate stopped before its results/);
});

test.serial("no implementation and no impl-binary: the gate step refuses in one line, exit 2, before the gate starts", (t) => {
  const actionPath = join(scratch, "action");
  if (!existsSync(join(actionPath, "action.yml"))) copyCheckout(actionPath);
  const runnerTemp = join(scratch, "runner-temp-no-implementation");
  mkdirSync(runnerTemp);
  const run = runCompositeAction(actionPath, { tiers: "host", "report-name": "unnamed" }, mkdtempSync(join(scratch, "work-")), runnerEnvironment(runnerTemp), undefined, ["install"]);
  const gate = run.steps.find((step) => step.id === "gate")!;
  t.is(gate.status, 2);
  t.is(gate.stderr, "ci/gate.sh: the input 'implementation' (VFORKCHECK_IMPLEMENTATION) is required: what runs the spawn, e.g. go (with goroot), musl (with libc-root), go@1.26; or give only impl-binary for your own drivers\n");
  t.false(existsSync(gate.outputs.report!), "the gate did not run");
});
