/**
 * The Actions check (ci/actionlint.ts, ci/action-metadata.ts): the project's
 * workflows, its example and its action.yml have no findings, and each check
 * can fail: a broken workflow, a broken action and a wrong call of the action
 * each yield findings on the lines where the fault is.
 */
import test from "ava";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { actionInputs, checkActionCalls, checkActionShape, expressionsInScripts, lintActionSteps, runnerPathExpressions, secretsRead, unusedInputs } from "../../ci/action-metadata.ts";
import { formatFinding, lintProject, lintWorkflow } from "../../ci/actionlint.ts";
import { projectRoot } from "../../harness/process/project-root.ts";

const brokenWorkflow = `
name: broken
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    colour: blue
    steps:
      - run: echo "\${{ matrix.arch. }}"
`;

const actionText = readFileSync(join(projectRoot, "action.yml"), "utf8");
const read = (path: string) => readFileSync(join(projectRoot, path), "utf8");

/** The 1-based line of the only line of `text` containing `fragment`. */
function lineOf(text: string, fragment: string): number {
  const lines = text.split("\n").flatMap((line, index) => (line.includes(fragment) ? [index + 1] : []));
  if (lines.length !== 1) throw new Error(`"${fragment}" is on ${lines.length} lines, not one`);
  return lines[0]!;
}

/** action.yml with one fragment replaced; the fragment must occur exactly once. */
function actionWith(fragment: string, replacement: string): string {
  if (actionText.split(fragment).length !== 2) throw new Error(`"${fragment}" does not occur exactly once in action.yml`);
  return actionText.replace(fragment, replacement);
}

test("the project's workflows, its example and action.yml have no findings", async (t) => {
  const findings = await lintProject();
  t.deepEqual(findings.map(formatFinding), []);
});

test("the example and the gate call the action, with inputs it declares", (t) => {
  const names = actionInputs(actionText).map((input) => input.name);
  t.deepEqual(names, ["implementation", "goroot", "libc-root", "baseline", "baseline-goroot", "impl-binary", "architectures", "tiers", "runs", "seed", "properties", "case-deadline", "known-findings", "strict-known", "shard", "report-name"]);
  t.is(actionInputs(actionText).find((input) => input.name === "implementation")?.default, undefined, "no default: the reference is gated only when named");
  for (const [path, uses] of [["docs/examples/go-fork.yml", "OWNER/vforkcheck@"], [".github/workflows/gate.yml", "uses: ./\n"]] as const) {
    const text = read(path);
    t.true(text.includes(uses), `${path} calls the action`);
    t.deepEqual(checkActionCalls(text, path, actionInputs(actionText)), [], path);
  }
});

test("an unknown key and a bad expression in a workflow are both found", async (t) => {
  const findings = (await lintWorkflow(brokenWorkflow, "broken.yml")).map(formatFinding);
  t.log(findings.join("\n"));
  t.true(findings.some((line) => /^broken\.yml:8:\d+: .*"colour"/.test(line)), "the unknown key");
  t.true(findings.some((line) => /^broken\.yml:10:\d+: /.test(line)), "the bad expression");
});

test("the action's shape: a workflow-only step key, a run without shell, a wrong runs.using, an input without a description", (t) => {
  const broken = actionWith("    - id: gate\n      shell: bash\n", "    - id: gate\n      timeout-minutes: 30\n")
    .replace("  using: composite", "  using: node20")
    .replace('    description: "fast-check seed', '    about: "fast-check seed');
  const findings = checkActionShape(broken, "action.yml").map(formatFinding);
  t.log(findings.join("\n"));
  t.true(findings.some((line) => line.startsWith(`action.yml:${lineOf(broken, "timeout-minutes: 30")}:7: unexpected key "timeout-minutes"`)), "the workflow-only key");
  t.true(findings.some((line) => line.startsWith(`action.yml:${lineOf(broken, "- id: gate")}:`) && line.includes('needs "shell"')), "the run without shell");
  t.true(findings.some((line) => line.startsWith(`action.yml:${lineOf(broken, "using: node20")}:`) && line.includes("composite")), "runs.using");
  t.true(findings.some((line) => line.includes('unexpected key "about" in inputs "seed"')), "the unknown input key");
  t.true(findings.some((line) => line.startsWith(`action.yml:${lineOf(broken, "  seed:")}:`) && line.includes('has no "description"')), "the missing description");
  t.deepEqual(checkActionShape(actionText, "action.yml"), [], "the real action has none of them");
});

test("the action's steps are linted with action.yml's lines: an undeclared input, an unknown step, a bad context", async (t) => {
  const broken = actionWith("VFORKCHECK_SEED: ${{ inputs.seed }}", "VFORKCHECK_SEED: ${{ inputs.sed }}")
    .replace("value: ${{ steps.gate.outputs.tap }}", "value: ${{ steps.gat.outputs.tap }}")
    .replace("- if: always() && steps.gate.outputs.summary != ''", "- if: always() && step.gate.outputs.summary != ''");
  const findings = (await lintActionSteps(broken, "action.yml", lintWorkflow)).map(formatFinding);
  t.log(findings.join("\n"));
  const sedLine = broken.split("\n")[lineOf(broken, "inputs.sed") - 1]!;
  t.true(findings.some((line) => line.startsWith(`action.yml:${lineOf(broken, "inputs.sed")}:${sedLine.indexOf("inputs.sed") + 1}: `) && line.includes('"sed"')), "the undeclared input, at its line and column");
  t.true(findings.some((line) => line.startsWith(`action.yml:${lineOf(broken, "steps.gat.")}:`) && line.includes('"gat"')), "the output of a step that does not exist");
  t.true(findings.some((line) => line.startsWith(`action.yml:${lineOf(broken, "step.gate.")}:`) && line.includes('"step"')), "the unknown context");
  t.deepEqual(await lintActionSteps(actionText, "action.yml", lintWorkflow), [], "the real action has none of them");
});

test("an input the steps never read, and a secret read by the action, are found", (t) => {
  const broken = actionWith("  report-name:\n", "  colour:\n    description: ignored\n    default: blue\n  report-name:\n").replace("${{ inputs.runs }}", "${{ secrets.RUNS }}");
  const findings = [...unusedInputs(broken, "action.yml"), ...secretsRead(broken, "action.yml")].map(formatFinding);
  t.log(findings.join("\n"));
  t.true(findings.some((line) => line.startsWith(`action.yml:${lineOf(broken, "  colour:")}:`) && line.includes('"colour" is declared but never used')));
  t.true(findings.some((line) => line.startsWith(`action.yml:${lineOf(broken, "  runs:")}:`) && line.includes('"runs" is declared but never used')), "runs, now read by no step");
  t.true(findings.some((line) => line.startsWith(`action.yml:${lineOf(broken, "secrets.RUNS")}:`) && line.includes("no secrets context")));
  t.deepEqual([...unusedInputs(actionText, "action.yml"), ...secretsRead(actionText, "action.yml")], [], "the real action has none of them");
});

test("an input pasted into a run script is found, at the expression", (t) => {
  const broken = actionWith('bash "$GITHUB_ACTION_PATH/ci/gate.sh"', 'bash "$GITHUB_ACTION_PATH/ci/gate.sh" --seed ${{ inputs.seed }}');
  const findings = expressionsInScripts(broken, "action.yml").map(formatFinding);
  const line = lineOf(broken, "--seed ${{");
  t.deepEqual(findings, [`action.yml:${line}:${broken.split("\n")[line - 1]!.indexOf("${{") + 1}: an expression in a run script is pasted into the shell's text (script injection): pass it through env`]);
  const block = actionWith('        cd "$GITHUB_ACTION_PATH"\n        npm ci', '        cd "${{ github.action_path }}"\n        npm ci');
  t.deepEqual(expressionsInScripts(block, "action.yml").map((finding) => finding.line), [lineOf(block, 'cd "${{ github.action_path }}"')], "in a block scalar too");
  t.deepEqual(expressionsInScripts(actionText, "action.yml"), [], "the real action pastes none");
});

test("a runner path expression, wrong in a container job, is found; a comment naming one is not", (t) => {
  const broken = actionWith("VFORKCHECK_COMMAND: ${{ steps.install.outputs.command }}", "VFORKCHECK_COMMAND: ${{ steps.install.outputs.command }}\n        VFORKCHECK_REPORTS: ${{ runner.temp }}/reports");
  const line = lineOf(broken, "${{ runner.temp }}/reports");
  t.deepEqual(runnerPathExpressions(broken, "action.yml").map(formatFinding), [
    `action.yml:${line}:${broken.split("\n")[line - 1]!.indexOf("${{") + 1}: "runner.temp" is the runner's path in a container job: use the environment variable instead`,
  ]);
  t.deepEqual(runnerPathExpressions(actionText, "action.yml"), [], "the real action has none");
});

test("a call of the action with an input it does not declare, or without a required one, is found", (t) => {
  const workflow = `on: push
jobs:
  gate:
    runs-on: ubuntu-latest
    steps:
      - uses: OWNER/vforkcheck@v1
        with:
          implementation: go
          architecture: arm64
      - uses: actions/cache@v4
        with:
          architecture: not ours
`;
  const inputs = actionInputs(actionText);
  const findings = checkActionCalls(workflow, "caller.yml", inputs).map(formatFinding);
  t.deepEqual(findings, [`caller.yml:9:11: input "architecture" is not defined in action.yml (its inputs: ${inputs.map((input) => input.name).join(", ")})`]);
  const required = checkActionCalls(workflow, "caller.yml", [...inputs, { name: "token", required: true, line: 1 }]).map(formatFinding);
  t.true(required.some((line) => line.startsWith("caller.yml:6:9: missing input \"token\"")), required.join("\n"));
});

test("lintProject finds the faults of a project's files: a broken example and a broken action.yml", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "vforkcheck-actionlint-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, "docs", "examples"), { recursive: true });
  writeFileSync(join(root, "docs", "examples", "broken.yml"), brokenWorkflow);
  writeFileSync(join(root, "action.yml"), actionWith("    - id: gate\n      shell: bash\n", "    - id: gate\n"));
  const findings = (await lintProject(root)).map(formatFinding);
  t.log(findings.join("\n"));
  t.true(findings.some((line) => line.startsWith("docs/examples/broken.yml:8:")), "the example");
  t.true(findings.some((line) => line.startsWith("action.yml:") && line.includes('needs "shell"')), "the action");
});
