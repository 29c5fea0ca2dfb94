// A report file is checked before a run without being touched, and written
// whole or not at all: an earlier report survives until the new one replaces
// it, and nothing is left beside it.
import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { prepareReportFile, writeJsonReport, writeReportFile } from "../../harness/run/report-output.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";

test("checking a report file leaves an earlier report as it was, and nothing beside it", (t) => {
  const directory = scratchDirectory(t, "vfc-report-");
  const report = join(directory, "gate.json");
  writeFileSync(report, "earlier\n");
  t.is(prepareReportFile(report), undefined);
  t.is(readFileSync(report, "utf8"), "earlier\n");
  t.deepEqual(readdirSync(directory), ["gate.json"]);
});

test("checking a report file removes what a writer SIGKILLed mid-write left, not what a running one is writing", (t) => {
  const directory = scratchDirectory(t, "vfc-report-");
  const gone = spawnSync("true").pid;
  writeFileSync(join(directory, `.gate.json.${gone}.tmp`), "half a report");
  // The parent of this test process runs: it stands for another gate writing the same report.
  writeFileSync(join(directory, `.gate.json.${process.ppid}.tmp`), "being written");
  writeFileSync(join(directory, `.other.json.${gone}.tmp`), "another report's");
  t.is(prepareReportFile(join(directory, "gate.json")), undefined);
  t.deepEqual(readdirSync(directory).sort(), [`.gate.json.${process.ppid}.tmp`, `.other.json.${gone}.tmp`]);
});

test("checking a report file makes its directory and refuses a directory or an unwritable one, in one line", (t) => {
  const directory = scratchDirectory(t, "vfc-report-");
  t.is(prepareReportFile(join(directory, "new", "deeper", "gate.json")), undefined);
  t.deepEqual(readdirSync(join(directory, "new", "deeper")), []);
  mkdirSync(join(directory, "gate.json"));
  t.is(prepareReportFile(join(directory, "gate.json")), `--report: cannot write ${join(directory, "gate.json")}: it is a directory`);
  // sysfs takes no new file, not even from root (a read-only directory would not stop root).
  t.regex(prepareReportFile("/sys/gate.json", "--junit") ?? "", /^--junit: cannot write \/sys\/gate\.json: EACCES/);
});

test("a report replaces the earlier one whole, through a symbolic link to its target, with no temporary file left", (t) => {
  const directory = scratchDirectory(t, "vfc-report-");
  const report = join(directory, "gate.json");
  writeFileSync(report, "earlier\n");
  writeJsonReport(report, { results: [1, 2] });
  t.deepEqual(JSON.parse(readFileSync(report, "utf8")), { results: [1, 2] });
  symlinkSync("gate.json", join(directory, "latest.json"));
  writeReportFile(join(directory, "latest.json"), "through the link\n");
  t.is(readFileSync(report, "utf8"), "through the link\n");
  t.deepEqual(readdirSync(directory).sort(), ["gate.json", "latest.json"]);
});

test("a report that cannot be renamed into place leaves the earlier one and no temporary file", (t) => {
  const directory = scratchDirectory(t, "vfc-report-");
  // A non-empty directory at the report's name: the rename fails after the temporary file was written.
  mkdirSync(join(directory, "gate.json"));
  writeFileSync(join(directory, "gate.json", "inside"), "earlier\n");
  t.throws(() => writeReportFile(join(directory, "gate.json"), "new\n"));
  t.deepEqual(readdirSync(directory), ["gate.json"]);
  t.is(readFileSync(join(directory, "gate.json", "inside"), "utf8"), "earlier\n");
});

test("a report to a character device is written in place (there is nothing to rename over)", (t) => {
  t.notThrows(() => writeReportFile("/dev/null", "discarded\n"));
  t.is(prepareReportFile("/dev/null"), undefined);
});
