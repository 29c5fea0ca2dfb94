/**
 * src/annotations.ts: a report's failures as `::error` workflow commands.
 * The commands are read back as the Actions runner reads them (its
 * ActionCommand parser: the properties between the first space and the next
 * `::`, split at `,` and the first `=`, then unescaped, `%25` last), so an
 * annotation's title and message survive whatever a reason or counterexample
 * holds.
 */
import test from "ava";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../../harness/process/project-root.ts";
import { errorCommand, escapeCommandData, escapeCommandProperty, failureAnnotations } from "../../src/annotations.ts";
import { parseGateReport, type ReportResult } from "../../src/gate-report.ts";

const unescapeData = (text: string) => text.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
const unescapeProperty = (text: string) => text.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%3A/g, ":").replace(/%2C/g, ",").replace(/%25/g, "%");

/** A workflow command line as the runner parses it. */
function readCommand(line: string): { command: string; properties: Record<string, string>; message: string } {
  const match = /^::([a-z]+)(?: ([^]*?))?::([^]*)$/.exec(line);
  if (!match) throw new Error(`not a workflow command: ${line}`);
  const properties: Record<string, string> = {};
  for (const pair of (match[2] ?? "").split(",").filter(Boolean)) {
    const equals = pair.indexOf("=");
    properties[pair.slice(0, equals)] = unescapeProperty(pair.slice(equals + 1));
  }
  return { command: match[1]!, properties, message: unescapeData(match[3]!) };
}

test("escaping: any title and message survive the runner's parsing, on one line", (t) => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (title, message) => {
      const line = errorCommand({ title, message });
      if (/[\r\n]/.test(line)) return false;
      const read = readCommand(line);
      return read.command === "error" && read.properties.title === title && read.message === message && Object.keys(read.properties).length === 1;
    }),
  );
  t.is(escapeCommandData("100% a:b,c\r\nd"), "100%25 a:b,c%0D%0Ad");
  t.is(escapeCommandProperty("100% a:b,c\r\nd"), "100%25 a%3Ab%2Cc%0D%0Ad");
});

test("every status of a report: one annotation for the failure and one for the target that could not be tested, none for pass, skip and known; a fixed finding only under --strict-known", (t) => {
  const path = join(projectRoot, "test/fixtures/report-formats/every-status.json");
  const report = parseGateReport(readFileSync(path, "utf8"), path);
  const failure = report.results.find((result) => result.status === "fail")!;
  const fixed = report.results.find((result) => result.status === "fixed")!;
  const broken = report.results.find((result) => result.status === "broken")!;
  t.deepEqual(failureAnnotations({ ...report, strictKnown: false }), [
    {
      title: `vforkcheck ${failure.target} ${failure.property}`,
      message: `${failure.reason}\ncounterexample: ${failure.counterexample}\nreplay: ${failure.replay}`,
    },
    { title: `vforkcheck ${broken.target} could not be tested (broken)`, message: broken.reason },
  ]);
  const strict = failureAnnotations({ ...report, strictKnown: true });
  t.is(strict.length, 3);
  t.is(strict[0]!.title, `vforkcheck ${fixed.target} ${fixed.property}: fixed`);
  t.true(strict[0]!.message.startsWith(fixed.reason));
  // The fixture's failure holds a newline, backquotes and quotes: the command stays one line and reads back whole.
  const line = errorCommand(strict[1]!);
  t.false(line.includes("\n"));
  t.is(readCommand(line).message, strict[1]!.message);
  t.is(readCommand(line).properties.title, "vforkcheck arm64/user/go descriptors-inherited");
});

const row = (target: string, property: string, fields: Partial<ReportResult>): ReportResult => ({
  arch: target.split("/")[0]!,
  tier: target.split("/")[1]!,
  impl: "go",
  target,
  property,
  status: "fail",
  reason: "",
  counterexample: null,
  replay: null,
  known: [],
  ...fields,
});

test("a target that did not start is one annotation, not one per property; a malformed answer is one; a failure without a case has no counterexample line", (t) => {
  const crashed = "target did not start: arm64/user/go: the driver crashed during hello (signal SIGSEGV)";
  const results = [
    row("arm64/user/go", "parent-resumes", { reason: crashed }),
    row("arm64/user/go", "errno-propagates", { reason: crashed }),
    row("amd64/host/go", "exec-failure", { reason: "the case's deadline passed" }),
    row("amd64/host/go", "parent-resumes", { status: "pass" }),
  ];
  const annotations = failureAnnotations({ results, malformed: [{ target: "s390x/user/go", message: "line 3: 'status=x' is not a number" }], strictKnown: false });
  t.deepEqual(annotations, [
    { title: "vforkcheck arm64/user/go did not start", message: "arm64/user/go: the driver crashed during hello (signal SIGSEGV)" },
    { title: "vforkcheck amd64/host/go exec-failure", message: "the case's deadline passed" },
    { title: "vforkcheck s390x/user/go: malformed answer", message: "the implementation's answer broke the protocol, so the gate stopped: line 3: 'status=x' is not a number" },
  ]);
});
