// src/known-findings.ts on its own: a finding explains a case only when
// every problem, the outcome, the errno and the case's flags match; its
// scope is the implementation, version glob, target glob and property; a
// malformed file is one line naming the file and the entry. The shipped
// impls/go/known-findings.json parses.
import { readFileSync } from "node:fs";
import test from "ava";
import { loadProperties } from "../../properties/index.ts";
import {
  explainingFinding,
  explains,
  findingsFor,
  FindingTally,
  globMatches,
  knownAwareExitCode,
  KnownFindingsError,
  parseKnownFindings,
  propertyStatus,
  reproducerStatus,
  type CaseEvidence,
  type KnownFinding,
} from "../../src/known-findings.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";

const names = { implementations: ["reference", "go", "glibc", "node", "cmd"], properties: ["errno-propagates", "parent-resumes"] };

const plainCase: SpawnCase = {
  path: "exec-target",
  argv: ["x"],
  env: [],
  cwd: "none",
  cloneFlags: 0,
  unshareFlags: 0,
  setsid: false,
  setpgid: false,
  descriptors: [],
  uidInside: 0,
  gidInside: 0,
  memoryBytes: 0,
  signalStorm: false,
};

const entry = {
  id: "leak",
  implementation: "go",
  version: "go1.19*",
  targets: ["*/user", "amd64/host"],
  properties: ["errno-propagates"],
  match: { problems: ["^2 descriptor\\(s\\) leaked in the parent$"], outcome: "error", errno: ["EINVAL"], step: ["clone"], cloneOrUnshareFlags: ["CLONE_NEWUSER"] },
  rootCause: "returns before closing the map pipe",
  source: "exec_linux.go:93",
  reproducer: { ...plainCase, cloneFlags: "CLONE_NEWUSER|CLONE_NEWNS|CLONE_FS", unshareFlags: "0" },
};

const parse = (entries: unknown) => parseKnownFindings(JSON.stringify(entries), "known.json", names);
const finding: KnownFinding = parse([entry])[0]!;
const leak = "2 descriptor(s) leaked in the parent";
const newUserCase: SpawnCase = { ...plainCase, cloneFlags: 0x10020200 };
const evidence = (overrides: Partial<CaseEvidence> = {}): CaseEvidence => ({ spawnCase: newUserCase, problems: [leak], outcome: "error", errno: "EINVAL", expectedStep: "clone", ...overrides });

test("the reproducer's flag names become the mask", (t) => {
  t.is(finding.reproducer.cloneFlags, 0x10020200);
  t.is(finding.reproducer.unshareFlags, 0);
});

test("a finding explains a case only when every problem and the case's shape match", (t) => {
  t.true(explains(finding, evidence()));
  t.true(explains(finding, evidence({ spawnCase: { ...plainCase, unshareFlags: 0x10000000 } })), "CLONE_NEWUSER in the unshare flags counts");
  t.false(explains(finding, evidence({ problems: [leak, "1 zombie child(ren) left after the spawn"] })), "one unexplained problem is enough to fail");
  t.false(explains(finding, evidence({ problems: ["3 descriptor(s) leaked in the parent"] })));
  t.false(explains(finding, evidence({ problems: [] })), "no problem is nothing to explain");
  t.false(explains(finding, evidence({ spawnCase: { ...plainCase, cloneFlags: 0x00020200 } })), "without CLONE_NEWUSER the shape differs");
  t.false(explains(finding, evidence({ errno: "EPERM" })));
  t.false(explains(finding, evidence({ expectedStep: "unshare" })), "the oracle expects another step to fail");
  t.false(explains(finding, evidence({ expectedStep: undefined })));
  t.false(explains(finding, evidence({ outcome: "spawned", errno: undefined })));
  t.false(explains(finding, evidence({ outcome: undefined, errno: undefined })), "a case that did not finish has no outcome");
  t.is(explainingFinding([finding], evidence({ errno: "EPERM" })), undefined);
  t.is(explainingFinding([finding], evidence()), finding);
});

test("a finding applies by implementation, version glob, target glob and property", (t) => {
  const scope = { implementation: "go", version: "go1.19.8", target: "arm64/user", property: "errno-propagates" };
  t.deepEqual(findingsFor([finding], scope), [finding]);
  t.deepEqual(findingsFor([finding], { ...scope, target: "amd64/host" }), [finding]);
  t.deepEqual(findingsFor([finding], { ...scope, target: "386/host" }), []);
  t.deepEqual(findingsFor([finding], { ...scope, version: "go1.22.1" }), []);
  t.deepEqual(findingsFor([finding], { ...scope, implementation: "glibc" }), []);
  t.deepEqual(findingsFor([finding], { ...scope, property: "parent-resumes" }), []);
  t.true(globMatches("go1.19*", "go1.19.8"));
  t.false(globMatches("go1.19.*", "go1x19x8"), "a dot in a version is a dot");
  t.true(globMatches("2.3?", "2.36"));
  t.false(globMatches("go1.1", "go1.19.8"), "a glob matches the whole version");
});

test("statuses: fail wins, then fixed, then known; exit 0 unless a failure, or fixed under --strict-known", (t) => {
  t.is(reproducerStatus(finding, evidence()), "known");
  t.is(reproducerStatus(finding, evidence({ problems: [] })), "fixed");
  t.is(reproducerStatus(finding, evidence({ problems: ["spawn failed with ENOENT (2), expected EINVAL from clone"] })), "fail");
  t.is(propertyStatus(false, []), "pass");
  t.is(propertyStatus(false, ["known"]), "known");
  t.is(propertyStatus(false, ["known", "fixed"]), "fixed");
  t.is(propertyStatus(true, ["known"]), "fail");
  t.is(propertyStatus(false, ["fail"]), "fail");
  t.is(knownAwareExitCode(["pass", "known", "skip"], true), 0);
  t.is(knownAwareExitCode(["pass", "fixed"], false), 0);
  t.is(knownAwareExitCode(["pass", "fixed"], true), 1);
  t.is(knownAwareExitCode(["known", "fail"], false), 1);
});

test("the tally counts distinct cases and keeps the first as the example", (t) => {
  const tally = new FindingTally();
  tally.record(finding, newUserCase);
  tally.record(finding, newUserCase);
  tally.record(finding, { ...newUserCase, argv: ["y"] });
  const outcome = tally.outcome(finding, evidence());
  t.is(outcome.cases, 2);
  t.is(outcome.status, "known");
  t.is(JSON.parse(outcome.example!).argv[0], "x");
  t.is(new FindingTally().outcome(finding, evidence({ problems: [] })).status, "fixed");
});

const malformed: [string, unknown, RegExp][] = [
  ["not JSON", "{", /^known\.json: not JSON/],
  ["not a list", { findings: [] }, /^known\.json: must be a JSON list/],
  ["a missing field", [{ ...entry, source: undefined }], /^known\.json: entry 1 \(id "leak"\): lacks 'source'$/],
  ["an unknown field", [{ ...entry, severity: "high" }], /entry 1 \(id "leak"\): the entry: unknown field 'severity'/],
  ["an unknown implementation", [{ ...entry, implementation: "rust" }], /entry 1 \(id "leak"\): 'implementation': unknown 'rust'/],
  ["an unknown property", [{ ...entry, properties: ["no-such"] }], /'properties': unknown 'no-such'/],
  ["a bad target", [{ ...entry, targets: ["amd64"] }], /'targets': 'amd64' is not <arch>\/<tier>/],
  ["a bad regular expression", [{ ...entry, match: { ...entry.match, problems: ["(("] } }], /'match.problems': '\(\(' is not a regular expression/],
  ["an errno without outcome error", [{ ...entry, match: { problems: ["x"], errno: ["EINVAL"] } }], /'match.errno' needs "outcome": "error"/],
  ["an unknown step", [{ ...entry, match: { ...entry.match, step: ["exec"] } }], /'match.step': unknown 'exec' \(known: clone,unshare,setpgid,chdir,execve\)/],
  ["an unknown flag", [{ ...entry, match: { ...entry.match, cloneOrUnshareFlags: ["CLONE_NEWFOO"] } }], /'match.cloneOrUnshareFlags': 'CLONE_NEWFOO' is not a list of clone flags/],
  ["an incomplete reproducer", [{ ...entry, reproducer: { path: "missing" } }], /'reproducer' lacks 'argv'/],
  ["an unknown path kind", [{ ...entry, reproducer: { ...entry.reproducer, path: "nowhere" } }], /'reproducer.path': unknown 'nowhere'/],
  ["a reserved descriptor", [{ ...entry, reproducer: { ...entry.reproducer, descriptors: [1] } }], /'reproducer.descriptors' must be an integer >= 3/],
  ["the second entry's fault", [entry, { ...entry, id: "other", version: "" }], /^known\.json: entry 2 \(id "other"\): 'version' must be a non-empty string$/],
  ["a repeated id", [entry, entry], /^known\.json: entry 2 \(id "leak"\): the id is already used by entry 1$/],
];

for (const [what, content, message] of malformed) {
  test(`a file with ${what} is one line naming the file and the entry`, (t) => {
    const error = t.throws(() => parseKnownFindings(typeof content === "string" ? content : JSON.stringify(content), "known.json", names), { instanceOf: KnownFindingsError });
    t.regex(error!.message, message);
    t.false(error!.message.includes("\n"));
  });
}

test("an empty file (/dev/null) has no findings", (t) => {
  t.deepEqual(parseKnownFindings("", "/dev/null", names), []);
  t.deepEqual(parseKnownFindings("[]\n", "empty.json", names), []);
});

test("the shipped Go file parses against the real property names and explains the shrunk leak case", async (t) => {
  const properties = (await loadProperties()).map((property) => property.name);
  const findings = parseKnownFindings(readFileSync("impls/go/known-findings.json", "utf8"), "impls/go/known-findings.json", { implementations: names.implementations, properties });
  t.is(findings.length, 20);
  // Go's nextfd overwrite of a descriptor the parent holds: one entry per release line measured.
  t.is(findings.filter((finding) => finding.id.startsWith("go-forkexec-nextfd-overwrite")).length, 5);
  const leaks = findings.filter((finding) => finding.properties.includes("errno-propagates"));
  t.is(leaks.length, 5);
  // The same leak in concurrent cases, one entry per release line too: a case leaks two per failed clone.
  t.is(findings.filter((finding) => finding.properties.includes("concurrent-spawns") && finding.match.problems.some((pattern) => pattern.test("6 descriptor(s) leaked in the parent") && !pattern.test("3 descriptor(s) leaked in the parent"))).length, 5);
  t.true(leaks.every((finding) => explains(finding, evidence())));
  // One entry per release line where the leak was measured: each version meets only its own, an unmeasured one none.
  const meets = (version: string) => findingsFor(findings, { implementation: "go", version, target: "loong64/user", property: "errno-propagates" }).map((finding) => finding.id);
  t.deepEqual(meets("go1.19.8"), ["go-forkexec-id-map-pipe-leak"]);
  for (const version of ["1.22.12", "1.23.5", "1.24.4", "1.26.10"]) t.deepEqual(meets(`go${version}`), [`go-forkexec-id-map-pipe-leak-go${version.split(".").slice(0, 2).join(".")}`]);
  t.deepEqual(meets("go1.25.0"), []);
});
