/**
 * The workflow check: the project's workflows pass actionlint, and the check
 * can fail (a broken workflow yields findings), so passing means something.
 */
import test from "ava";
import { readdirSync } from "node:fs";
import { formatFinding, lintWorkflow, lintWorkflowDirectory, workflowDirectory } from "../../ci/actionlint.ts";

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

test("the project's workflows have no findings", async (t) => {
  t.true(readdirSync(workflowDirectory).some((name) => name.endsWith(".yml")), "there is a workflow to check");
  const findings = await lintWorkflowDirectory();
  t.deepEqual(findings.map(formatFinding), []);
});

test("an unknown key and a bad expression are both found", async (t) => {
  const findings = (await lintWorkflow(brokenWorkflow, "broken.yml")).map(formatFinding);
  t.log(findings.join("\n"));
  t.true(findings.some((line) => /^broken\.yml:8:\d+: .*"colour"/.test(line)), "the unknown key");
  t.true(findings.some((line) => /^broken\.yml:10:\d+: /.test(line)), "the bad expression");
});
