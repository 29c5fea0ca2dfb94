// Every input the user gives is bounded, and each fault is produced for real:
// - paths of any script: a TMPDIR and a cache named in UTF-8 (not ASCII) give
//   the same green gate on amd64/host, arm64/user and arm64/system, nothing left;
// - a list option naming an item twice: one line, exit 2;
// - --known naming a FIFO nobody writes, a directory, /dev/zero: one line, exit
//   2, at once, nothing left; a file with a UTF-8 byte order mark is read;
// - a matcher that backtracks exponentially (^(.+)+x$) against a long reason:
//   the gate ends, with the failure it found;
// - a file of 100,000 findings is read in time in proportion to its size.
import test from "ava";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cacheDirectory } from "../../harness/toolchain/debian-archive.ts";
import { everyImplementationName } from "../../harness/implementations/index.ts";
import { explains, globMatches, parseKnownFindings, KnownFindingsError, type KnownNames } from "../../src/known-findings.ts";
import { encodeItem, fileNameBytes } from "../../src/protocol.ts";
import { hostileDriverCommand, leftBehind, runVforkcheck, uniqueMarker } from "../helpers/marked-run.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";
import { gateCli, vforkcheckCli } from "../helpers/gate-cli.ts";

const names: KnownNames = { implementations: everyImplementationName, properties: ["errno-propagates", "parent-resumes"] };
const byteOrderMark = "\uFEFF";

/** A finding of the reference on amd64/host's errno-propagates whose one problem pattern is `pattern`. */
function findingWith(id: string, pattern: string) {
  return {
    id,
    implementation: "reference",
    version: "*",
    targets: ["amd64/host"],
    properties: ["errno-propagates"],
    match: { problems: [pattern] },
    rootCause: "a pattern that backtracks exponentially in a backtracking engine",
    source: "test/cli/bounded-input.test.ts",
    reproducer: { path: "missing", argv: ["r"], env: [], cwd: "none", cloneFlags: "0", unshareFlags: "0", setsid: false, setpgid: false, descriptors: [], uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false },
  };
}

test("a file name reaches the driver as its UTF-8 bytes, one char per byte in the case", (t) => {
  const name = "/tmp/cache-ü-日本/x";
  t.is(encodeItem(fileNameBytes(name)), `x${Buffer.from(name, "utf8").toString("hex")}`);
  // What a child reports (its cwd, decoded byte for byte) compares equal to the fixture's name in the case.
  t.is(Buffer.from(Buffer.from(name, "utf8").toString("hex"), "hex").toString("latin1"), fileNameBytes(name));
});

test("a TMPDIR and a cache named in UTF-8: the reference is green on amd64/host, arm64/user and arm64/system, nothing left", async (t) => {
  const scratch = scratchDirectory(t, "vfc-bounded-");
  const temporary = join(scratch, "tmp-ü-日本");
  const cache = join(scratch, "cache-ü-日本");
  mkdirSync(temporary);
  mkdirSync(cache);
  // The installed cache under a non-ASCII name (no second download): the exec target's path is non-ASCII too.
  for (const entry of readdirSync(cacheDirectory())) symlinkSync(join(cacheDirectory(), entry), join(cache, entry));
  const env = { TMPDIR: temporary, VFORKCHECK_CACHE: cache };
  // Two gates: one naming amd64 and arm64 with the system tier would boot amd64/system too.
  const gates = [
    [["--arch", "amd64", "--tier", "host"], ["amd64/host", "amd64/host/in-process"]],
    [["--arch", "arm64", "--tier", "user,system"], ["arm64/system", "arm64/user"]],
  ] as const;
  // Side by side: the two gates share the cache as two users' gates would.
  const runs = await Promise.all(gates.map(([where]) => vforkcheckCli(["gate", ...where, "--property", "errno-propagates,parent-resumes", "--runs", "6", "--seed", "1", "--report", join(scratch, `gate-${where[1]}.json`)], 200_000, env)));
  for (const [index, [where, targets]] of gates.entries()) {
    const run = runs[index]!;
    t.is(run.status, 0, run.stderr.slice(-2000));
    const report = join(scratch, `gate-${where[1]}.json`);
    const results = (JSON.parse(readFileSync(report, "utf8")) as { results: { target: string; status: string }[] }).results;
    t.deepEqual([...new Set(results.map((result) => result.target))].sort(), [...targets]);
    t.deepEqual(results.filter((result) => result.status !== "pass").map((result) => `${result.target} ${result.status}`), []);
  }
  // (tsx keeps its compile cache there too.)
  t.deepEqual(readdirSync(temporary).filter((name) => name.startsWith("vforkcheck-")), [], "the fixture directories are removed");
});

test("a TMPDIR whose bytes are not UTF-8: broken (exit 3), in one line that says so, not a missing directory", (t) => {
  const scratch = scratchDirectory(t, "vfc-bounded-");
  // Node would pass the name on as UTF-8 text: the shell sets the raw byte 0xff.
  const run = spawnSync("/bin/sh", ["-c", `TMPDIR="$(printf '%s/tmp-\\377' "$SCRATCH")" && mkdir "$TMPDIR" && export TMPDIR && exec "$0" --import=tsx harness/cli/vforkcheck.ts gate --arch amd64 --tier host --runs 2 --property errno-propagates --report "$1"`, process.execPath, join(scratch, "gate.json")], {
    encoding: "utf8",
    timeout: 120_000,
    killSignal: "SIGKILL",
    env: { ...process.env, SCRATCH: scratch },
  });
  t.is(run.status, 3, run.stderr);
  const faults = `${run.stdout}${run.stderr}`.split("\n").filter((line) => line.startsWith("broken: TMPDIR="));
  t.is(faults.length, 1, run.stdout);
  t.regex(faults[0]!, /^broken: TMPDIR=.*\/tmp-\uFFFD is not valid UTF-8: Node names files by UTF-8 text and cannot reach it; set TMPDIR to a writable directory/);
});

for (const [option, list, repeated] of [
  ["--arch", "amd64,amd64", "amd64"],
  ["--tier", "host,user,host", "host"],
  ["--impl", "go@all,go@1.22", "go@1.22"],
  ["--property", "pidfd,errno-propagates,pidfd", "pidfd"],
] as const) {
  test(`gate ${option} ${list}: one line, exit 2, nothing started`, async (t) => {
    const marker = uniqueMarker("repeat");
    const run = runVforkcheck(["gate", "--runs", "2", "--impl-cmd", hostileDriverCommand("setsid-hang", marker), option, list], 60_000);
    t.is(run.status, 2, run.stderr);
    t.is(run.stderr, `vforkcheck: ${option}: '${repeated}' is given twice (name each once) (usage: vforkcheck gate --help)\n`);
    t.deepEqual(await leftBehind(marker), []);
  });
}

for (const [what, file, kind] of [
  ["a FIFO nobody writes", (scratch: string) => (execFileSync("mkfifo", [join(scratch, "fifo")]), join(scratch, "fifo")), "a FIFO"],
  ["a directory", (scratch: string) => scratch, "a directory"],
  ["/dev/zero", () => "/dev/zero", "a character device"],
] as const) {
  // A FIFO that blocked would run into the 60 s deadline: status null, not 2.
  test(`--known ${what}: one line, exit 2, at once, nothing left`, async (t) => {
    const path = file(scratchDirectory(t, "vfc-known-kind-"));
    const marker = uniqueMarker("known-kind");
    const run = runVforkcheck(["gate", "--arch", "amd64", "--tier", "host", "--runs", "2", "--impl-cmd", hostileDriverCommand("setsid-hang", marker), "--known", path], 60_000);
    t.is(run.status, 2, run.stderr);
    t.is(run.stderr, `vforkcheck: --known: ${path} is ${kind}, not a regular file (give a JSON file of findings, or /dev/null for none)\n`);
    t.deepEqual(await leftBehind(marker), []);
  });
}

test("a known-findings file that starts with a UTF-8 byte order mark reads as the same file without it", (t) => {
  const text = readFileSync("impls/go/known-findings.json", "utf8");
  const properties = [...new Set((JSON.parse(text) as { properties: string[] }[]).flatMap((entry) => entry.properties))];
  t.deepEqual(parseKnownFindings(`${byteOrderMark}${text}`, "bom.json", { ...names, properties }), parseKnownFindings(text, "plain.json", { ...names, properties }));
});

test("--known with a byte order mark: the gate reads it (exit 0)", async (t) => {
  const file = join(scratchDirectory(t, "vfc-bom-"), "known.json");
  writeFileSync(file, `${byteOrderMark}${JSON.stringify([findingWith("bom", "^never$")])}`);
  const run = await gateCli(t, ["--arch", "amd64", "--tier", "host", "--no-in-process", "--property", "errno-propagates", "--runs", "4", "--seed", "1", "--known", file]);
  t.is(run.status, 0, run.output);
  t.deepEqual(run.results.map((result) => result.status), ["fixed"], run.output);
});

test("a pattern the linear-time engine cannot run is refused in one line naming the file and entry", (t) => {
  for (const pattern of ["(a)\\1", "a(?=b)", "a{1,20}"]) {
    const error = t.throws(() => parseKnownFindings(JSON.stringify([findingWith("slow", pattern)]), "known.json", names), { instanceOf: KnownFindingsError });
    t.is(error?.message, `known.json: entry 1 (id "slow"): 'match.problems': '${pattern}' is not one a linear-time engine can match (no backreferences, lookaround, or counts above 16 such as {20} or {1,20})`);
  }
});

test("an exponentially backtracking pattern against a 100,000-char reason ends at once", (t) => {
  const [finding] = parseKnownFindings(JSON.stringify([findingWith("slow", "^(a+)+$")]), "known.json", names);
  const spawnCase = finding!.reproducer;
  const started = Date.now();
  t.false(explains(finding!, { spawnCase, problems: [`${"a".repeat(100_000)}!`] }));
  t.true(Date.now() - started < 5000, `${Date.now() - started} ms`);
});

test("a version glob of many stars against a long version ends at once, and still matches what it should", (t) => {
  const stars = `${"*a".repeat(30)}*x`;
  const started = Date.now();
  t.false(globMatches(stars, "a".repeat(5000)));
  t.true(Date.now() - started < 5000, `${Date.now() - started} ms`);
  t.true(globMatches("go1.2?*", "go1.22.12"));
  t.false(globMatches("go1.2?*", "go1.2"));
});

test("a gate whose finding's pattern backtracks exponentially on its failure's reason ends, and fails the property", async (t) => {
  const file = join(scratchDirectory(t, "vfc-backtrack-"), "known.json");
  // ^(.+)+x$ against "spawn failed with no errno (0), expected EINVAL ..." (over 100 chars) is 2^100 steps when it backtracks.
  writeFileSync(file, JSON.stringify([findingWith("backtracks", "^(.+)+x$")]));
  const run = await gateCli(t, ["--define", "MUTANT_CLONE_ERRNO_DROPPED", "--arch", "amd64", "--tier", "host", "--no-in-process", "--property", "errno-propagates", "--runs", "20", "--seed", "1", "--known", file], 180_000);
  t.is(run.status, 1, run.output);
  t.deepEqual(run.results.map((result) => result.status), ["fail"], run.output);
  t.regex(run.results[0]!.reason, /no errno/);
});

test("100,000 findings are read in time in proportion to the file (a repeated id at the end named with its first entry)", (t) => {
  const entry = findingWith("x", "^never$");
  const entries = Array.from({ length: 100_000 }, (_, index) => ({ ...entry, id: `finding-${index}` }));
  const started = Date.now();
  t.is(parseKnownFindings(JSON.stringify(entries), "many.json", names).length, 100_000);
  // Measured idle: 3.5 s; the pairwise search for repeated ids it replaced took 67 s.
  t.true(Date.now() - started < 30_000, `${Date.now() - started} ms`);
  entries.push({ ...entry, id: "finding-0" });
  t.throws(() => parseKnownFindings(JSON.stringify(entries), "many.json", names), { message: 'many.json: entry 100001 (id "finding-0"): the id is already used by entry 1' });
});
