/**
 * action.yml's own steps, run as the runner runs them (test/helpers/
 * composite-action.ts) on a copy of this checkout: the install step packs and
 * installs the package, the gate step runs it with the inputs as flags, the
 * summary reaches the job summary, also when the gate refuses its input.
 * GitHub's own actions (setup-node, cache, upload-artifact) are not run here.
 */
import test from "ava";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { projectRoot } from "../../harness/process/project-root.ts";
import { runCompositeAction } from "../helpers/composite-action.ts";

const scratch = mkdtempSync(join(tmpdir(), "vforkcheck-action-steps-"));
test.after.always(() => rmSync(scratch, { recursive: true, force: true }));

/** The checkout's files as git knows them (tracked and new, not ignored): what a runner checks out, without node_modules, build or dist. */
function copyCheckout(to: string): void {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: projectRoot, encoding: "utf8" }).split("\0").filter(Boolean);
  for (const file of files) {
    if (!existsSync(join(projectRoot, file))) continue; // deleted in the working tree
    mkdirSync(dirname(join(to, file)), { recursive: true });
    cpSync(join(projectRoot, file), join(to, file));
  }
}

function environment(runnerTemp: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, RUNNER_TEMP: runnerTemp, RUNNER_OS: "Linux", RUNNER_ARCH: "X64", GITHUB_RUN_ID: "9876543210" };
  delete env.NODE_OPTIONS; // ava's tsx loader: the installed package must run without it
  return env;
}

test.serial("the action installs the packed package, gates host and user with the inputs, writes the summary and the reports", (t) => {
  const actionPath = join(scratch, "action");
  copyCheckout(actionPath);
  const runnerTemp = join(scratch, "runner-temp");
  mkdirSync(runnerTemp);
  const run = runCompositeAction(actionPath, { implementation: "reference", tiers: "host,user", architectures: "amd64,arm64", runs: "5", seed: "7", "report-name": "local" }, mkdtempSync(join(scratch, "work-")), environment(runnerTemp));
  t.deepEqual(run.steps.map((step) => [step.id, step.status]), [["cache-key", 0], ["install", 0], ["gate", 0], ["step-5", 0]]);
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
  const run = runCompositeAction(actionPath, { implementation: "reference", tiers: "kernel", "report-name": "refused" }, mkdtempSync(join(scratch, "work-")), environment(runnerTemp));
  const gate = run.steps.find((step) => step.id === "gate")!;
  t.is(gate.status, 2);
  t.is(gate.outputs["exit-code"], "2");
  t.regex(run.summary, /wrote no summary/);
});
