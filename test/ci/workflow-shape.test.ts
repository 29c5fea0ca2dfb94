/**
 * What docs/ci.md and docs/command-line.md say of action.yml and
 * .github/workflows/gate.yml, read from their YAML (the CI runs them; here
 * nothing of GitHub's can): every input reaches ci/gate.sh, the summary and the
 * reports survive a failing gate, the package is the packed tarball, and the
 * sharded gate's merge job sees every shard and fails with any of them, and
 * each cell of the Go fork's example plans targets.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { projectRoot } from "../../harness/process/project-root.ts";
import { gateOptions } from "../../harness/run/gate.ts";
import { parseOptions, planTargets } from "../../harness/run/options.ts";
import { hostExecution } from "../../harness/process/host-execution.ts";
import type { Step } from "../helpers/composite-action.ts";

interface Job {
  name?: string;
  "timeout-minutes"?: number | string;
  needs?: string | string[];
  if?: string;
  strategy?: { matrix: Record<string, unknown[]> & { include?: Record<string, string>[] } };
  steps: Step[];
}

const read = (path: string) => readFileSync(join(projectRoot, path), "utf8");
const action = parse(read("action.yml")) as { inputs: Record<string, unknown>; runs: { steps: Step[] } };
const gateScript = read("ci/gate.sh");
const workflow = parse(read(".github/workflows/gate.yml")) as { jobs: Record<string, Job> };

function only<T>(items: T[], what: string): T {
  if (items.length !== 1) throw new Error(`${items.length} ${what}, not one`);
  return items[0]!;
}

const gateStep = only(action.runs.steps.filter((step) => step.id === "gate"), "gate steps");

test("every input of the action reaches ci/gate.sh through a variable the script reads", (t) => {
  t.is(gateStep.run, 'VFORKCHECK_REPORTS="$RUNNER_TEMP/vforkcheck-reports" bash "$GITHUB_ACTION_PATH/ci/gate.sh"');
  for (const input of Object.keys(action.inputs)) {
    const variable = Object.entries(gateStep.env ?? {}).find(([, value]) => value === `\${{ inputs.${input} }}`)?.[0];
    t.truthy(variable, `input ${input} is in the gate step's env`);
    if (variable) t.true(gateScript.includes(`\${${variable}:-`), `ci/gate.sh reads ${variable}`);
  }
});

test("the package is built by npm pack and the tarball installed apart, without devDependencies", (t) => {
  const install = only(action.runs.steps.filter((step) => step.id === "install"), "install steps").run!;
  t.regex(install, /npm ci\b/);
  t.regex(install, /npm pack --pack-destination "\$RUNNER_TEMP\/vforkcheck-pack"/);
  t.regex(install, /npm install --prefix "\$RUNNER_TEMP\/vforkcheck" .*--omit=dev "\$\{tarballs\[@\]\}"/);
  t.is(gateStep.env?.VFORKCHECK_COMMAND, "${{ steps.install.outputs.command }}");
  t.true(action.runs.steps.some((step) => step.uses === "actions/setup-node@v4" && String(step.with?.["node-version"]) === "20"));
});

test("a failing gate still annotates its failures, writes the job summary, uploads its reports and saves the cache", (t) => {
  const after = action.runs.steps.slice(action.runs.steps.indexOf(gateStep) + 1);
  const summary = only(after.filter((step) => step.run?.includes("$GITHUB_STEP_SUMMARY")), "summary steps");
  const upload = only(after.filter((step) => step.uses?.startsWith("actions/upload-artifact@")), "upload steps");
  const save = only(after.filter((step) => step.uses?.startsWith("actions/cache/save@")), "cache saves");
  const annotate = only(after.filter((step) => step.id === "annotate"), "annotate steps");
  t.is(annotate.env?.REPORT, "${{ steps.gate.outputs.report }}");
  t.regex(annotate.run ?? "", /ci\/annotate\.ts "\$REPORT"/);
  for (const step of [annotate, summary, upload, save]) t.regex(step.if ?? "", /^always\(\)/, `${step.uses ?? step.id ?? "the summary"} runs after a failure`);
  t.is(upload.with?.name, "${{ steps.gate.outputs.name }}");
});

test("the gate's cells are shards 1..N of one plan, through the action, each uploading gate-shard-I-of-N", (t) => {
  const cells = workflow.jobs.gate!;
  const { shard, count } = cells.strategy!.matrix as { shard: number[]; count: number[] };
  const shards = only(count, "shard counts");
  t.deepEqual(shard, Array.from({ length: shards }, (_, index) => index + 1));
  const call = only(cells.steps.filter((step) => step.uses === "./"), "calls of the action");
  t.is(call.with?.shard, "${{ matrix.shard }}/${{ matrix.count }}");
  t.is(call.with?.["report-name"], "gate");
  t.is(call.with?.seed, "${{ inputs.seed }}", "one seed for every shard (the run id when empty)");
});

test("the merge job runs after every cell, whatever they did, merges their reports and fails with any", (t) => {
  const merge = workflow.jobs.merge!;
  t.deepEqual([merge.needs].flat(), ["gate"]);
  t.regex(merge.if ?? "", /always\(\)/);
  const download = only(merge.steps.filter((step) => step.uses?.startsWith("actions/download-artifact@")), "downloads");
  t.is(download.with?.pattern, "gate-shard-*");
  const merging = only(merge.steps.filter((step) => step.run?.includes("vforkcheck report merge")), "merge steps").run!;
  for (const flag of ["--out reports/gate.json", "--junit reports/gate.xml", "--tap reports/gate.tap", '--summary "$GITHUB_STEP_SUMMARY"'])
    t.true(merging.replace(/\\\n\s*/g, "").includes(flag), flag);
  const verdict = only(merge.steps.filter((step) => step.env?.CELLS !== undefined), "cell verdicts");
  t.is(verdict.env?.CELLS, "${{ needs.gate.result }}");
  t.regex(verdict.if ?? "", /^always\(\)/);
  t.regex(verdict.run ?? "", /!= success[\s\S]*exit 1/);
  t.truthy(workflow.jobs.memory, "the memory benchmark's job is kept");
});

/**
 * The targets a call of the action plans with these inputs, by the gate's own option parser, on this machine as measured.
 * A target in place of one the machine cannot have (386/user for 386/host where the kernel has no i386) is named for the tier it replaces.
 */
function plannedTargets(inputs: { implementation?: string; architectures: string; tiers: string }): string[] {
  const options = parseOptions(["--impl", inputs.implementation ?? "reference", "--arch", inputs.architectures, "--tier", inputs.tiers], gateOptions);
  return planTargets(options, hostExecution()).map((spec) => `${spec.architecture.name}/${spec.replaced?.tier ?? spec.tier}`);
}

test("each cell of the Go fork's example plans targets of its own tier, as the gate parses its inputs", (t) => {
  const example = parse(read("docs/examples/go-fork.yml")) as { jobs: Record<string, Job> };
  const job = only(Object.values(example.jobs), "jobs");
  const call = only(job.steps.filter((step) => step.uses?.includes("/vforkcheck@")), "calls of the action");
  t.is(call.with?.architectures, "${{ matrix.architectures }}");
  t.is(call.with?.tiers, "${{ matrix.tiers }}");
  const cells = job.strategy!.matrix.include!;
  t.true(cells.length > 0);
  for (const cell of cells) {
    const targets = plannedTargets({ implementation: call.with!.implementation, architectures: cell.architectures!, tiers: cell.tiers! });
    t.true(targets.length > 0 && targets.every((target) => target.endsWith(`/${cell.tiers}`)), `${cell.tiers} (${cell.architectures}): ${targets.join(", ")}`);
  }
  t.deepEqual(plannedTargets({ implementation: "go", architectures: "arm64", tiers: "host" }), [], "a host cell of arm64 would plan nothing: the check can fail");
});

test("the Go fork's example gives each cell a timeout and gates against a baseline release", (t) => {
  const example = parse(read("docs/examples/go-fork.yml")) as { jobs: Record<string, Job> };
  const job = only(Object.values(example.jobs), "jobs");
  t.is(job["timeout-minutes"], "${{ matrix.timeout-minutes }}");
  for (const cell of job.strategy!.matrix.include!) {
    const minutes = Number(cell["timeout-minutes"]);
    t.true(Number.isInteger(minutes) && minutes > 0 && minutes <= 60, `${cell.tiers} (${cell.architectures}): timeout-minutes ${cell["timeout-minutes"]}`);
  }
  const call = only(job.steps.filter((step) => step.uses?.includes("/vforkcheck@")), "calls of the action");
  t.regex(call.with?.baseline ?? "", /^go@\d+\.\d+$/);
  t.is(call.with?.implementation, "go");
});
