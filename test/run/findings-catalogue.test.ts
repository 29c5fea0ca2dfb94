// The findings catalogue (docs/findings/<id>/finding.json): the shipped one
// is valid; each kind of fault is one line naming the file; a target's
// verdict ranks fail, fixed, known, skip, pass; the page puts the findings
// before the verdict table, and docs/findings.md is what the generator makes.
import test from "ava";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { catalogueDirectory, readCatalogue } from "../../harness/run/findings.ts";
import { checkCatalogue, parseCatalogueFinding, reproducerVerdict, rootCauseFor, type CatalogueFinding } from "../../src/findings-catalogue.ts";
import { findingsPage, verdictRows } from "../../src/findings-page.ts";
import { parseGateReport, type GateReport, type ReportResult } from "../../src/gate-report.ts";

const shipped = readFileSync(join(catalogueDirectory, "go-map-pipe-leak", "finding.json"), "utf8");
const file = "x/finding.json";

function mutated(change: (entry: Record<string, any>) => void): string {
  const entry = JSON.parse(shipped) as Record<string, any>;
  change(entry);
  return JSON.stringify(entry);
}

test("the shipped catalogue reads, and each finding's root cause is found by version", (t) => {
  const catalogue = readCatalogue(catalogueDirectory);
  t.deepEqual(catalogue.map((finding) => finding.id), ["go-id-map-file-leak", "go-map-pipe-leak", "go-nextfd-overwrite", "go-pidfd-exec-failure-leak", "node-libuv-enoexec-shell", "node-libuv-spawn-pipe-abort"]);
  const byId = (id: string) => catalogue.find((finding) => finding.id === id)!;
  // Node's versions are upstream numbers: a release's root cause by its major.
  t.is(rootCauseFor(byId("node-libuv-enoexec-shell"), "20.19.2")?.function, "uv__process_child_init");
  t.is(rootCauseFor(byId("node-libuv-spawn-pipe-abort"), "18.20.4"), undefined);
  // A release that fixed a finding says so in its own root cause.
  t.regex(rootCauseFor(byId("go-pidfd-exec-failure-leak"), "go1.23.5")?.where ?? "", /^fixed: /);
  t.notRegex(rootCauseFor(byId("go-pidfd-exec-failure-leak"), "go1.22.12")?.where ?? "", /^fixed/);
  const leak = byId("go-map-pipe-leak");
  t.is(rootCauseFor(leak, "go1.19.8")?.function, "forkAndExecInChild");
  t.regex(rootCauseFor(leak, "go1.24.4")?.where ?? "", /lines 145-146/);
  t.is(rootCauseFor(leak, "go1.21.0"), undefined);
  t.deepEqual([1, 0, 2].map(reproducerVerdict), ["present", "absent", "not shown"]);
});

for (const [name, text, message] of [
  ["not JSON", "{", /^x\/finding\.json: not JSON/],
  ["a missing field", mutated((entry) => delete entry.summary), /^x\/finding\.json: the finding lacks 'summary'$/],
  ["an unknown field", mutated((entry) => (entry.severity = "high")), /the finding: unknown field 'severity'/],
  ["an id that is not the directory", mutated((entry) => (entry.id = "other")), /'id' is 'other', but the directory is 'go-map-pipe-leak'/],
  ["an unknown upstream status", mutated((entry) => (entry.upstream.status = "maybe")), /'upstream\.status': unknown 'maybe' \(known: not checked, no report found, reported, fixed\)/],
  ["reported without a link", mutated((entry) => (entry.upstream.status = "reported")), /'upstream\.status' "reported" needs a link in 'upstream\.references'/],
  ["no root cause", mutated((entry) => (entry.rootCauses = [])), /'rootCauses' must be a non-empty list/],
  ["a root cause without its function", mutated((entry) => delete entry.rootCauses[1].function), /rootCauses\[1\] lacks 'function'/],
  ["an exit status out of range", mutated((entry) => (entry.reproducer.measured[0].exit = 300)), /'reproducer\.measured\[0\]\.exit' must be an exit status/],
  ["a program outside the directory", mutated((entry) => (entry.reproducer.program = "../main.go")), /'reproducer\.program': '\.\.\/main\.go' must be a file name/],
] as const) {
  test(`a catalogue entry with ${name} is refused in one line`, (t) => {
    const error = t.throws(() => parseCatalogueFinding(text, file, "go-map-pipe-leak"));
    t.regex(error!.message, message);
    t.false(error!.message.includes("\n"));
  });
}

test("two findings may not claim the same known finding", (t) => {
  const one = parseCatalogueFinding(shipped, file, "go-map-pipe-leak");
  const two: CatalogueFinding = { ...one, id: "go-other" };
  t.throws(() => checkCatalogue([one, two], "docs/findings"), { message: "docs/findings: known finding 'go-forkexec-id-map-pipe-leak' is claimed by both 'go-map-pipe-leak' and 'go-other'" });
});

test("a catalogue directory without finding.json, without its program, or claiming an unknown known finding is refused", (t) => {
  const root = mkdtempSync(join(tmpdir(), "vfc-catalogue-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const copy = join(root, "go-map-pipe-leak");
  cpSync(join(catalogueDirectory, "go-map-pipe-leak"), copy, { recursive: true });
  t.is(readCatalogue(root).length, 1);
  writeFileSync(join(copy, "finding.json"), mutated((entry) => (entry.knownFindings = ["go-no-such-finding"])));
  t.throws(() => readCatalogue(root), { message: /'knownFindings': 'go-no-such-finding' is in no entry of the go known-findings file/ });
  writeFileSync(join(copy, "finding.json"), mutated((entry) => (entry.reproducer.program = "repro.go")));
  t.throws(() => readCatalogue(root), { message: /'reproducer\.program': no repro\.go in/ });
  mkdirSync(join(root, "empty"));
  t.throws(() => readCatalogue(root), { message: /empty: no finding\.json/ });
});

test("a target's verdict: fail, then fixed, then known, then skip (all skipped), then pass", (t) => {
  const result = (target: string, property: string, status: ReportResult["status"], known: ReportResult["known"] = []): ReportResult => ({
    arch: "amd64", tier: "host", impl: "go", target, property, status, reason: `${property} reason`, counterexample: null, replay: null, known,
  });
  const outcome = (status: "known" | "fixed") => [{ finding: "go-forkexec-id-map-pipe-leak", status, cases: 1, example: null, reproducer: "" }];
  const report: GateReport = {
    seed: 1,
    partial: false,
    targets: [],
    malformed: [],
    strictKnown: false,
    implementations: [{ label: "go", name: "go", version: "go1.19.8" }],
    results: [
      result("a", "p", "fail"), result("a", "q", "known", outcome("known")), result("a", "r", "fixed", outcome("fixed")),
      result("b", "q", "known", outcome("known")), result("b", "r", "fixed", outcome("fixed")),
      result("c", "q", "known", outcome("known")), result("c", "s", "skip"), result("c", "t", "pass"),
      result("d", "s", "skip"), result("d", "u", "skip"),
      result("e", "t", "pass"), result("e", "s", "skip"),
    ],
  };
  const rows = verdictRows(report, readCatalogue(catalogueDirectory));
  t.deepEqual(rows.map((row) => [row.target, row.verdict, row.detail]), [
    ["a", "fail", "p"],
    ["b", "fixed", "no longer reproduces: go-map-pipe-leak (r)"],
    ["c", "known", "go-map-pipe-leak (q); s skipped: s reason"],
    ["d", "skip", "s reason; u reason"],
    ["e", "pass", "1 of 2 properties pass; s skipped: s reason"],
  ]);
});

/** The page made from a report file of the repository, named as `vforkcheck findings` names it. */
function pageOf(reportFile: string): string {
  return findingsPage(parseGateReport(readFileSync(reportFile, "utf8"), reportFile), readCatalogue(catalogueDirectory), reportFile);
}

for (const reportFile of ["test/fixtures/findings-report.json", "docs/measurements/gate-releases-host-user.json"])
  test(`the page opens with the findings, and the verdict table comes last (${reportFile})`, (t) => {
    const lines = pageOf(reportFile).split("\n");
    const firstSection = lines.findIndex((line) => line.startsWith("## "));
    t.is(lines[firstSection], "## Findings of this run");
    const firstFinding = lines.findIndex((line) => line.startsWith("### "));
    t.true(firstFinding > firstSection);
    // Before the first finding's own text, no table: a reader sees the finding first.
    const firstTableRow = lines.findIndex((line) => line.startsWith("|"));
    t.true(firstTableRow > lines.indexOf("Root cause:", firstFinding), `first table row at line ${firstTableRow + 1}`);
    const everyTarget = lines.indexOf("## Every target");
    t.true(everyTarget > lines.findIndex((line) => line === "## Catalogued findings this run did not show"));
    t.true(lines.slice(everyTarget).some((line) => line.startsWith("| runtime | version | architecture | tier | target | verdict |")));
    t.false(lines.slice(0, everyTarget).some((line) => line.startsWith("| runtime | version | architecture | tier | target | verdict |")));
  });

test("docs/findings.md is the page the generator makes from its report (regenerate: npx vforkcheck findings docs/measurements/gate-releases-host-user.json)", (t) => {
  t.is(readFileSync("docs/findings.md", "utf8"), pageOf("docs/measurements/gate-releases-host-user.json"));
});
