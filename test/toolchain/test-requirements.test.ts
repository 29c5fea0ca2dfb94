// The guard behind test/requirements.json: while $VFORKCHECK_TEST_REQUIREMENTS
// names a table, a system target or a runtime release outside its union is
// refused with one line naming what is missing and the table to edit, a
// failure and never a skip; without the variable nothing is checked. A
// malformed table is one line and exit 2 of test/setup.ts, before anything
// is installed. Here the table is a fake one, set for this worker alone
// (ava runs each test file in its own process), so the tests are serial.
import test from "ava";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { findArchitecture } from "../../src/architectures.ts";
import { findRelease } from "../../src/runtime-releases.ts";
import { TargetUnavailableError } from "../../harness/implementations/adapter.ts";
import { driverCommand } from "../../harness/implementations/index.ts";
import { startTarget } from "../../harness/targets/start-target.ts";
import { ensureRelease } from "../../harness/toolchain/runtime-releases.ts";
import {
  parseTestRequirements,
  refuseUndeclaredRelease,
  refuseUndeclaredSystemTarget,
  testRequirementsUnion,
  testRequirementsVariable,
  undeclaredRelease,
  undeclaredSystemTarget,
  UndeclaredTestRequirementError,
} from "../../harness/toolchain/test-requirements.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";

const amd64 = findArchitecture("amd64")!;
const arm64 = findArchitecture("arm64")!;
const mips64le = findArchitecture("mips64le")!;
const riscv64 = findArchitecture("riscv64")!;
const go122 = findRelease("go", "1.22")!;
const go126 = findRelease("go", "1.26")!;
const glibc236 = findRelease("glibc", "2.36")!;

const fakeTable = {
  "test/a.test.ts": { system: ["arm64"], releases: { "go@1.22": ["mips64le"], "glibc@2.36": ["amd64"] } },
  "test/b.test.ts": { tools: [{ command: "/usr/bin/python3", debianPackage: "python3" }] },
};

/** Runs `body` with the variable naming `file` (or unset), then puts back what ava set. */
async function withTable<T>(file: string | undefined, body: () => Promise<T>): Promise<T> {
  const before = process.env[testRequirementsVariable];
  if (file === undefined) delete process.env[testRequirementsVariable];
  else process.env[testRequirementsVariable] = file;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env[testRequirementsVariable];
    else process.env[testRequirementsVariable] = before;
  }
}

function writeFakeTable(t: { teardown(fn: () => void): void }): string {
  const file = join(scratchDirectory(t, "vfc-requirements-"), "fake.json");
  writeFileSync(file, JSON.stringify(fakeTable));
  return file;
}

test.serial("the union: each architecture and tool once, a release once per cache entry (one Go toolchain serves every architecture)", (t) => {
  const union = testRequirementsUnion(parseTestRequirements(JSON.stringify({ ...fakeTable, "test/c.test.ts": { system: ["arm64", "riscv64"], releases: { "go@1.22": ["amd64"] } } }), "fake.json"));
  t.deepEqual(union.system.map((architecture) => architecture.name), ["arm64", "riscv64"]);
  t.deepEqual(union.releases.map(({ release, architecture }) => `${release.runtime}@${release.version} ${architecture.name}`), ["go@1.22 mips64le", "glibc@2.36 amd64"]);
  t.deepEqual(union.tools, [{ command: "/usr/bin/python3", debianPackage: "python3" }]);
});

test.serial("what the union lacks is one line naming it and the table; what it has passes", (t) => {
  const union = testRequirementsUnion(parseTestRequirements(JSON.stringify(fakeTable), "fake.json"));
  t.is(undeclaredSystemTarget(union, arm64, "fake.json"), undefined);
  t.is(undeclaredSystemTarget(union, riscv64, "fake.json"), 'riscv64/system is not in fake.json, so npm test\'s set-up does not fetch its kernel and QEMU: add "riscv64" to "system" of the test file that boots it');
  t.is(undeclaredRelease(union, go122, amd64, "fake.json"), undefined, "go@1.22's toolchain is one cache entry for every architecture");
  t.is(undeclaredRelease(union, glibc236, amd64, "fake.json"), undefined);
  t.is(undeclaredRelease(union, glibc236, arm64, "fake.json"), 'glibc@2.36 for arm64 is not in fake.json, so npm test\'s set-up does not fetch it: add "glibc@2.36": ["arm64"] to "releases" of the test file that builds it');
  t.regex(undeclaredRelease(union, go126, mips64le, "fake.json")!, /^go@1\.26 for toolchain is not in fake\.json/);
});

test.serial("a malformed table is one line naming the place", (t) => {
  const cases: [string, RegExp][] = [
    ["[", /^fake\.json: not JSON: /],
    ["[]", /^fake\.json: not an object of test files$/],
    ['{"test/a.test.ts": {"system": ["vax"]}}', /^fake\.json: test\/a\.test\.ts\.system\[0\]: unknown architecture "vax"$/],
    ['{"test/a.test.ts": {"system": []}}', /^fake\.json: test\/a\.test\.ts\.system: not a non-empty list of architecture names$/],
    ['{"test/a.test.ts": {"releases": {"go@1.7": ["amd64"]}}}', /^fake\.json: test\/a\.test\.ts\.releases: "go@1\.7" is no release of src\/runtime-releases\.ts \(NAME@VERSION\)$/],
    ['{"test/a.test.ts": {"tools": [{"command": "python3"}]}}', /^fake\.json: test\/a\.test\.ts\.tools\[0\]: not \{"command": \.\.\., "debianPackage": \.\.\.\}$/],
    ['{"test/a.test.ts": {"kernels": ["arm64"]}}', /^fake\.json: test\/a\.test\.ts: unknown field kernels \(known: system, releases, tools, builds\)$/],
    ['{"test/a.test.ts": {"builds": "go-devel"}}', /^fake\.json: test\/a\.test\.ts\.builds: not a list of build names$/],
  ];
  for (const [text, message] of cases) t.throws(() => parseTestRequirements(text, "fake.json"), { message }, text);
});

test.serial("an undeclared system target is refused where it starts, before its kernel: a failure, not a skip", async (t) => {
  const file = writeFakeTable(t);
  const error = await withTable(file, () => t.throwsAsync(startTarget({ architecture: riscv64, tier: "system", inProcess: false, impl: "reference", defines: [] })));
  t.true(error instanceof UndeclaredTestRequirementError, String(error));
  t.false(error instanceof TargetUnavailableError);
  t.is(error!.message, `riscv64/system is not in ${file}, so npm test's set-up does not fetch its kernel and QEMU: add "riscv64" to "system" of the test file that boots it`);
});

test.serial("an undeclared release is refused where it is ensured, cached or not, and through its adapter as a failure", async (t) => {
  const file = writeFakeTable(t);
  await withTable(file, async () => {
    await t.throwsAsync(ensureRelease(go126, amd64), { instanceOf: UndeclaredTestRequirementError, message: /^go@1\.26 for toolchain is not in \S+fake\.json, so npm test's set-up does not fetch it: add "go@1\.26": \["amd64"\]/ });
    await t.throwsAsync(ensureRelease(glibc236, arm64), { instanceOf: UndeclaredTestRequirementError, message: /^glibc@2\.36 for arm64 is not in / });
    const adapter = await t.throwsAsync(driverCommand({ name: "go", version: "1.26" }, amd64, []));
    t.true(adapter instanceof UndeclaredTestRequirementError, String(adapter));
  });
});

test.serial("without the variable nothing is checked; with it, the declared pass", async (t) => {
  const file = writeFakeTable(t);
  await withTable(undefined, async () => {
    t.notThrows(() => refuseUndeclaredSystemTarget(riscv64));
    t.notThrows(() => refuseUndeclaredRelease(go126, amd64));
  });
  await withTable(file, async () => {
    t.notThrows(() => refuseUndeclaredSystemTarget(arm64));
    t.notThrows(() => refuseUndeclaredRelease(go122, amd64));
    t.throws(() => refuseUndeclaredSystemTarget(riscv64), { instanceOf: UndeclaredTestRequirementError });
  });
});

test.serial("a table that cannot be read is one line when a target asks for it", async (t) => {
  await withTable("/nonexistent/requirements.json", async () => {
    t.throws(() => refuseUndeclaredSystemTarget(arm64), { message: /^\/nonexistent\/requirements\.json: cannot read: ENOENT$/ });
  });
});

/** test/setup.ts with the table `text` (or its arguments): set-up's stderr and status. */
function testSetup(t: { teardown(fn: () => void): void }, text: string, args: string[] = []) {
  const file = join(scratchDirectory(t, "vfc-requirements-setup-"), "table.json");
  writeFileSync(file, text);
  return spawnSync(process.execPath, ["--import=tsx", "test/setup.ts", ...args], { encoding: "utf8", timeout: 120_000, env: { ...process.env, [testRequirementsVariable]: file } });
}

test.serial("test/setup.ts refuses a malformed table, and an unknown argument, with one line and exit 2", (t) => {
  const malformed = testSetup(t, '{"test/a.test.ts": {"system": ["vax"]}}');
  t.is(malformed.status, 2);
  t.regex(malformed.stderr, /^vforkcheck setup: \S+table\.json: test\/a\.test\.ts\.system\[0\]: unknown architecture "vax"\n$/);
  const build = testSetup(t, '{"test/a.test.ts": {"builds": ["go-master"]}}');
  t.is(build.status, 2);
  t.regex(build.stderr, /^vforkcheck setup: \S+table\.json: unknown build "go-master" \(known: go-devel\)\n$/);
  const unknown = testSetup(t, "{}", ["--system"]);
  t.is(unknown.status, 2);
  t.is(unknown.stderr, "vforkcheck setup: unknown argument --system; usage: node --import=tsx test/setup.ts\n");
});

// npm test's set-up has installed the core tools: only the table's release is left, and the lock says the registry has none.
test.serial("test/setup.ts refuses a release the registry does not carry, with one line and exit 2", (t) => {
  const unavailable = testSetup(t, '{"test/a.test.ts": {"releases": {"glibc@2.43": ["mips64le"]}}}');
  t.is(unavailable.status, 2, unavailable.stderr);
  t.regex(unavailable.stderr, /^vforkcheck setup: \S+table\.json: glibc@2\.43 for mips64le: .*; the registry does not carry it, remove it from the table\n$/);
});
