// The table of what each test file needs beyond the core tools
// (test/requirements.json) is complete where a reading of the sources can
// tell: a test file that starts targets and names the system tier is
// listed with system architectures, and an architecture literal paired with
// the system tier on one line (the forms below) is among them. The scan
// does not follow variables (clone3-observer's architectures come from a
// tuple list): the guard in the harness catches those when the test runs.
// The union also covers what `setup --impl-tools` fetched before the table,
// and npm test runs the set-up that reads it, with ava's workers pointed at it.
import test from "ava";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { architectures } from "../src/architectures.ts";
import { defaultRelease, releaseName, releaseTargetKey } from "../src/runtime-releases.ts";
import { projectRoot } from "../harness/process/project-root.ts";
import { defaultTestRequirementsFile, readTestRequirements, testRequirementsUnion, testRequirementsVariable } from "../harness/toolchain/test-requirements.ts";

const table = readTestRequirements(defaultTestRequirementsFile);
const union = testRequirementsUnion(table);

function testFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return entry.name === "fixtures" ? [] : testFiles(path);
    return entry.name.endsWith(".test.ts") ? [relative(projectRoot, path)] : [];
  });
}

/** A file that starts targets: through startTarget, or by running the gate or set-up as a child. */
const startsTargets = /startTarget\(|"gate"|harness\/cli\/setup\.ts/;
/** A line that names the system tier. */
const namesSystemTier = /tier: "system"|"system"[)\]]|"--tier", "[a-z,]*system|--system=/;
/** Architecture literals paired with the system tier on one line; the first group holds one or a comma list. */
const pairings = [
  /\["([a-z0-9]+)", "system"\]/g, // a tuple: ["arm64", "system"]
  /\("([a-z0-9]+)",[^()]*"system"\)/g, // a helper's arguments: targetSpec("mips64le", ..., "system")
  /findArchitecture\("([a-z0-9]+)"\)[^;]*tier: "system"/g, // a spec literal
  /`([a-z0-9]+)=\$\{.*?\}`, "system"\)/g, // --impl-binary ARCH=PATH on the system tier
  /"--arch", "([a-z0-9,]+)"[^\]]*"--tier", "[a-z,]*system/g, // gate arguments
  /--system=([a-z0-9,]+)/g, // set-up's
];

/** What a source says about the system tier: whether it names it, and the architectures it pairs with it. */
function systemTierIn(source: string): { namesSystemTier: boolean; architectures: string[] } {
  const found = new Set<string>();
  let names = false;
  for (const line of source.split("\n")) {
    if (!namesSystemTier.test(line)) continue;
    names = true;
    for (const pairing of pairings)
      for (const match of line.matchAll(pairing))
        for (const name of match[1]!.split(",")) if (architectures.some((architecture) => architecture.name === name)) found.add(name);
  }
  return { namesSystemTier: names, architectures: [...found].sort() };
}

test("every file of the table is a test file of this checkout", (t) => {
  const files = testFiles(join(projectRoot, "test"));
  t.true(files.length > 50, `only ${files.length} test files found`);
  t.deepEqual([...table.keys()].filter((file) => !files.includes(file)), []);
});

test("a test file that starts targets on the system tier is listed with the architectures it pairs with it", (t) => {
  const missing: string[] = [];
  // This file's sample lines start nothing; the guard's test starts an undeclared target on purpose, under a fake table.
  const exempt = ["test/requirements.test.ts", "test/toolchain/test-requirements.test.ts"];
  for (const file of testFiles(join(projectRoot, "test")).filter((path) => !exempt.includes(path))) {
    const source = readFileSync(join(projectRoot, file), "utf8");
    if (!startsTargets.test(source)) continue;
    const named = systemTierIn(source);
    if (!named.namesSystemTier) continue;
    const declared: string[] = (table.get(file)?.system ?? []).map((architecture) => architecture.name);
    if (declared.length === 0) missing.push(`${file}: names the system tier, lists no "system"`);
    for (const name of named.architectures) if (!declared.includes(name)) missing.push(`${file}: ${name}/system`);
  }
  t.deepEqual(missing, []);
});

test("a file listed with system architectures names the system tier", (t) => {
  const stale = [...table].filter(([file, needs]) => needs.system.length > 0 && !systemTierIn(readFileSync(join(projectRoot, file), "utf8")).namesSystemTier).map(([file]) => file);
  t.deepEqual(stale, []);
});

// The scan can fail: each form yields its architectures, a host-tier line none.
test("the scan finds each form of an architecture paired with the system tier", (t) => {
  const lines: [string, string[]][] = [
    ['  ["arm64", "system"],', ["arm64"]],
    ['  startTarget(targetSpec("mips64le", { name: "go", version: "1.22" }, "system"));', ["mips64le"]],
    ['  const spec = { architecture: findArchitecture("s390x")!, tier: "system", inProcess: false };', ["s390x"]],
    ['  const run = await gate(t, `arm64=${await buildDriverSkeleton("arm64")}`, "system");', ["arm64"]],
    ['  ["gate", "--arch", "arm64,amd64", "--tier", "system,host", "--runs", "2"]', ["amd64", "arm64"]],
    ['  spawnSync(process.execPath, ["--import=tsx", "harness/cli/setup.ts", "--system=amd64"])', ["amd64"]],
    ['  ["gate", "--arch", "amd64", "--tier", "host"]', []],
  ];
  for (const [line, expected] of lines) t.deepEqual(systemTierIn(line).architectures, expected, line);
  t.false(systemTierIn('  ["gate", "--arch", "amd64", "--tier", "host"]').namesSystemTier);
  t.true(systemTierIn("  const reference = { architecture: arm64, tier: \"system\" };").namesSystemTier);
});

test("the union covers what setup --impl-tools fetched for the tests: the default releases for amd64 and arm64, and python3", (t) => {
  const fetched = union.releases.map(({ release, architecture }) => `${releaseName(release)} ${releaseTargetKey(release, architecture)}`);
  const amd64AndArm64 = architectures.filter((architecture) => architecture.name === "amd64" || architecture.name === "arm64");
  for (const runtime of ["go", "glibc", "musl"] as const)
    for (const architecture of amd64AndArm64) {
      const release = defaultRelease(runtime);
      t.true(fetched.includes(`${releaseName(release)} ${releaseTargetKey(release, architecture)}`), `${releaseName(release)} for ${architecture.name}`);
    }
  t.true(union.tools.some((tool) => tool.command === "python3" && tool.debianPackage === "python3"));
});

test("npm test runs the set-up that reads the table, and ava's workers are pointed at it", (t) => {
  const manifest = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { scripts: Record<string, string>; ava: { environmentVariables?: Record<string, string> } };
  t.regex(manifest.scripts.test!, /^node --import=tsx test\/setup\.ts && /);
  t.is(manifest.ava.environmentVariables?.[testRequirementsVariable], defaultTestRequirementsFile);
  t.is(process.env[testRequirementsVariable], defaultTestRequirementsFile, "this worker got it");
  t.true(existsSync(join(projectRoot, "test", "setup.ts")));
});
