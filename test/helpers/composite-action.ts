/**
 * Runs a composite action's `run:` steps in order as the runner does: bash
 * with `-e`, each step's `env:` with `${{ inputs.NAME }}` and
 * `${{ steps.ID.outputs.NAME }}` expanded, step outputs read back from
 * $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY a file, no descriptor but 0-2 open. A step whose `if:` is not
 * `always() && ...` runs only while every step before it succeeded, as
 * GitHub's default `success()`. `uses:` steps (GitHub's own actions: node,
 * cache, artifacts) are listed, not run. Any other expression is refused, so
 * the action cannot grow one this stand-in would misread.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { projectRoot } from "../../harness/process/project-root.ts";

/** Copies this checkout's files as git knows them (tracked and new, not ignored) to `to`: what a runner checks out, without node_modules, build or dist. */
export function copyCheckout(to: string): void {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: projectRoot, encoding: "utf8" }).split("\0").filter(Boolean);
  for (const file of files) {
    if (!existsSync(join(projectRoot, file))) continue; // deleted in the working tree
    mkdirSync(dirname(join(to, file)), { recursive: true });
    cpSync(join(projectRoot, file), join(to, file));
  }
}

/** A Linux x64 runner's environment with this temp directory and run id, without ava's tsx loader (the installed package must run without it). */
export function runnerEnvironment(runnerTemp: string, runId = "9876543210"): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, RUNNER_TEMP: runnerTemp, RUNNER_OS: "Linux", RUNNER_ARCH: "X64", GITHUB_RUN_ID: runId };
  delete env.NODE_OPTIONS;
  return env;
}

/** A step of a workflow's job or of a composite action, as YAML gives it. */
export interface Step {
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}

export interface ActionRun {
  /** Each step that ran; stdout is where the runner reads workflow commands (`::error ...`). */
  steps: { id: string; status: number | null; outputs: Record<string, string>; stdout: string; stderr: string }[];
  skippedUses: string[];
  summary: string;
}

function readOutputs(file: string): Record<string, string> {
  const lines = readFileSync(file, "utf8").split("\n").filter((line) => line !== "");
  return Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
}

/** `always() && steps.X.outputs.Y != ''` and the like: the one shape of condition the action uses. */
function conditionHolds(condition: string, output: (step: string, name: string) => string): boolean {
  const parts = condition.split("&&").map((part) => part.trim());
  if (parts[0] !== "always()") throw new Error(`composite-action: condition '${condition}' is not 'always() && ...'`);
  return parts.slice(1).every((part) => {
    const match = part.match(/^steps\.([\w-]+)\.outputs\.([\w-]+) (!=|==) '([^']*)'$/);
    if (!match) throw new Error(`composite-action: condition part '${part}' is not steps.ID.outputs.NAME (!=|==) 'TEXT'`);
    const equal = output(match[1]!, match[2]!) === match[4];
    return match[3] === "==" ? equal : !equal;
  });
}

/**
 * Runs the action's steps with the inputs `given`; the step files
 * ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY) go to `scratch`, and the steps run
 * in `workspace` (the job's checkout, where a relative input such as
 * `goroot: .` points), scratch itself when not given.
 */
/**
 * A runner's step starts with stdin, stdout and stderr only; a process here
 * may have inherited more without close-on-exec (a test runner's pipe), which
 * the gate would see as the parent's and expect in every child.
 */
const closeInheritedDescriptors = 'for fd in /proc/self/fd/*; do fd=${fd##*/}; if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi; done';

/** Steps of an action copy that passed, by action path, step id and script: what `reuse` may take instead of running them again. */
const passedSteps = new Map<string, ActionRun["steps"][number]>();

/**
 * Runs the action's steps as the runner does. `reuse` names steps (the
 * install step: npm ci, a TypeScript build and an npm install, about 25 s of
 * CPU) that, once passed for this action copy in this process, are not run
 * again: a later run takes their status and outputs (the package stays where
 * the first run installed it). A run with no such step before runs it.
 */
export function runCompositeAction(actionPath: string, given: Record<string, string>, scratch: string, environment: NodeJS.ProcessEnv, workspace = scratch, reuse: readonly string[] = []): ActionRun {
  const action = parse(readFileSync(join(actionPath, "action.yml"), "utf8")) as { inputs: Record<string, { default?: string }>; runs: { steps: Step[] } };
  const inputs = { ...Object.fromEntries(Object.entries(action.inputs).map(([name, input]) => [name, input.default ?? ""])), ...given };
  const outputs = new Map<string, Record<string, string>>();
  const output = (step: string, name: string) => outputs.get(step)?.[name] ?? "";
  const expand = (text: string) =>
    String(text).replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expression: string) => {
      const input = expression.match(/^inputs\.([\w-]+)$/);
      if (input) return inputs[input[1]!] ?? "";
      const step = expression.match(/^steps\.([\w-]+)\.outputs\.([\w-]+)$/);
      if (step) return output(step[1]!, step[2]!);
      throw new Error(`composite-action: expression '${expression}' is not inputs.NAME or steps.ID.outputs.NAME`);
    });
  const summary = join(scratch, "step-summary.md");
  writeFileSync(summary, "");
  const run: ActionRun = { steps: [], skippedUses: [], summary: "" };
  let failed = false;
  action.runs.steps.forEach((step, index) => {
    const id = step.id ?? `step-${index}`;
    if (step.if ? !conditionHolds(step.if, output) : failed) return;
    if (step.uses) return void run.skippedUses.push(step.uses);
    const key = `${actionPath}\0${id}\0${step.run ?? ""}`;
    const passed = reuse.includes(id) ? passedSteps.get(key) : undefined;
    if (passed) {
      outputs.set(id, passed.outputs);
      run.steps.push(passed);
      return;
    }
    const outputFile = join(scratch, `output-${id}`);
    writeFileSync(outputFile, "");
    const env = { ...environment, GITHUB_ACTION_PATH: actionPath, GITHUB_WORKSPACE: workspace, GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summary, ...Object.fromEntries(Object.entries(step.env ?? {}).map(([name, value]) => [name, expand(value)])) };
    const result = spawnSync("bash", ["-e", "-c", `${closeInheritedDescriptors}\n${step.run ?? ""}`], { env, cwd: workspace, encoding: "utf8", timeout: 10 * 60_000, killSignal: "SIGKILL", maxBuffer: 256 * 1024 * 1024 });
    outputs.set(id, readOutputs(outputFile));
    run.steps.push({ id, status: result.status, outputs: outputs.get(id)!, stdout: result.stdout, stderr: result.stderr });
    if (result.status === 0) passedSteps.set(key, run.steps.at(-1)!);
    if (result.status !== 0) failed = true;
  });
  run.summary = readFileSync(summary, "utf8");
  return run;
}
