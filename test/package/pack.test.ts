/**
 * The npm package as a user gets it: `npm pack` of this checkout, installed
 * into an empty directory, runs the host-tier gate there with node alone (no
 * tsx, no TypeScript, no devDependency), builds into a fresh cache and never
 * writes into the installed package.
 */
import test from "ava";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../harness/process/project-root.ts";
import { hostExecution } from "../../harness/process/host-execution.ts";
import { gateOptions } from "../../harness/run/gate.ts";
import { parseOptions, planTargets, runOptionTable } from "../../harness/run/options.ts";
import { replacementOf, targetName } from "../../harness/targets/target.ts";

const scratch = mkdtempSync(join(tmpdir(), "vforkcheck-pack-test-"));
const packDirectory = join(scratch, "pack");
const installDirectory = join(scratch, "install");
const cache = join(scratch, "cache");
const installedPackage = join(installDirectory, "node_modules", "vforkcheck");

/** The test process's environment without what would let a child find tsx (ava's loader) or another cache. */
function userEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, VFORKCHECK_CACHE: cache };
  delete env.NODE_OPTIONS;
  return env;
}

function run(command: string, args: readonly string[], cwd: string, timeoutMs: number): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env: userEnvironment(), encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL" });
}

/**
 * `npx vforkcheck ARGS` in the install directory. --no: the linked bin of this install, never a
 * package of that name fetched from the registry; "--": without it npx takes the options after --no
 * for its own (--help would print npm's).
 */
function npxVforkcheck(args: readonly string[], timeoutMs: number): SpawnSyncReturns<string> {
  return run("npx", ["--no", "--", "vforkcheck", ...args], installDirectory, timeoutMs);
}

function describe(what: string, result: SpawnSyncReturns<string>): string {
  return `${what}: status ${result.status} signal ${result.signal}\n${result.stdout}\n${result.stderr}`.slice(-4000);
}

/** Every file under `directory`, relative to it, sorted. */
function filesUnder(directory: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => join(entry.parentPath, entry.name).slice(directory.length + 1))
    .sort();
}

let installed: { files: string[] } | undefined;

test.before(() => {
  mkdirSync(packDirectory);
  mkdirSync(installDirectory);
  // A project of its own: without a package.json npm would install into the nearest directory above that has one.
  writeFileSync(join(installDirectory, "package.json"), `${JSON.stringify({ name: "vforkcheck-user", private: true })}\n`);
  const pack = run("npm", ["pack", "--pack-destination", packDirectory], projectRoot, 180_000);
  if (pack.status !== 0) throw new Error(describe("npm pack", pack));
  const tarballs = readdirSync(packDirectory).filter((name) => name.endsWith(".tgz"));
  if (tarballs.length !== 1) throw new Error(`npm pack made ${tarballs.join(", ") || "no tarball"}`);
  // --ignore-scripts: the package must work with no dependency's install script run, whatever the user's
  // allowScripts policy (koffi's only checks that its prebuilt binary loads; docs/install.md).
  const install = run("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", join(packDirectory, tarballs[0]!)], installDirectory, 180_000);
  if (install.status !== 0) throw new Error(describe("npm install", install));
  installed = { files: filesUnder(installedPackage) };
});

test.after.always(() => rmSync(scratch, { recursive: true, force: true }));

test("the installed package has no devDependency and no TypeScript to run", (t) => {
  const modules = readdirSync(join(installDirectory, "node_modules"));
  for (const development of ["tsx", "typescript", "ava", "esbuild", "@fast-check"]) t.false(modules.includes(development), `${development} is installed`);
  for (const runtime of ["fast-check", "koffi"]) t.true(modules.includes(runtime), `${runtime} is missing`);
  t.deepEqual(installed!.files.filter((file) => file.endsWith(".ts")), [], "sources shipped: a .ts file could only run through tsx");
  t.true(installed!.files.includes("dist/harness/cli/vforkcheck.js"));
  t.true(installed!.files.includes("native/driver.c"), "the native sources, which it builds into the cache");
});

test("npx vforkcheck --help exits 0 from the install directory", (t) => {
  const help = npxVforkcheck(["--help"], 60_000);
  t.is(help.status, 0, describe("--help", help));
  t.regex(help.stdout, /^usage: vforkcheck COMMAND /);
  t.regex(help.stdout, /^  setup /m);
  // The installed command's gate help: every option of the gate's table, each with its default.
  const gate = npxVforkcheck(["gate", "--help"], 60_000);
  t.is(gate.status, 0, describe("gate --help", gate));
  for (const option of runOptionTable(gateOptions)) t.true(gate.stdout.replace(/\s+/g, " ").includes(`Default: ${option.default}.`) && new RegExp(`^  ${option.name}\\b`, "m").test(gate.stdout), option.name);
});

test("npx vforkcheck findings works from the install directory: the catalogue and the docs ship in the package", (t) => {
  const out = join(installDirectory, "findings.md");
  const findings = npxVforkcheck(["findings", join(projectRoot, "test", "fixtures", "findings-report.json"), "--out", out], 60_000);
  t.is(findings.status, 0, describe("findings", findings));
  // The fixture's finding is written from the installed catalogue's entry (docs/findings/<id>/finding.json).
  t.regex(readFileSync(out, "utf8"), /^### go-map-pipe-leak/m);
  for (const page of ["README.md", "LICENSE", "docs/protocol.md", "docs/command-line.md"]) t.true(existsSync(join(installDirectory, "node_modules", "vforkcheck", page)), page);
});

// npm test's own set-up has installed the machine's tools already, so the package's setup installs none. Its cache
// is this test's fresh one, so the first run fetches the pinned emulators into it (and only that); the second is silent.
test("npx vforkcheck setup runs from the install directory, installs nothing, and fetches only the pinned qemu-user once", (t) => {
  const first = npxVforkcheck(["setup"], 300_000);
  t.is(first.status, 0, describe("setup", first));
  const lines = first.stderr.split("\n").filter(Boolean);
  t.deepEqual(lines.filter((line) => !line.startsWith("vforkcheck qemu-user: ")), [], "setup did more than fetch the pinned emulators");
  t.true(lines.some((line) => /^vforkcheck qemu-user: cached the 9 emulators of qemu-user-static /.test(line)) || lines.length === 0, first.stderr);
  const second = npxVforkcheck(["setup"], 120_000);
  t.is(second.status, 0, describe("setup", second));
  t.is(second.stderr, "");
});

test("the host-tier gate passes from the install directory, building into the cache only", (t) => {
  const report = join(installDirectory, "r.json");
  const gate = npxVforkcheck(["gate", "--tier", "host", "--runs", "5", "--report", report], 240_000);
  t.is(gate.status, 0, describe("gate", gate));
  const written = JSON.parse(readFileSync(report, "utf8")) as { plan: string[]; replaced?: unknown[]; results: { target: string; status: string }[] };
  const results = written.results;
  // This machine's plan, as the gate measures it (386/user in place of 386/host where the kernel does not execute i386).
  const planned = planTargets(parseOptions(["--tier", "host"], gateOptions), hostExecution());
  t.deepEqual(written.plan, planned.map(targetName));
  t.deepEqual(written.replaced ?? [], planned.flatMap((spec) => replacementOf(spec) ?? []));
  for (const target of planned.filter((spec) => !spec.inProcess).map(targetName)) {
    const statuses = results.filter((result) => result.target === target).map((result) => result.status);
    t.true(statuses.length > 0, `no results for ${target}`);
    t.deepEqual(statuses.filter((status) => status !== "pass" && status !== "skip"), [], `${target}: ${statuses.join(",")}`);
    t.true(statuses.includes("pass"), `${target} passed nothing`);
  }
  t.deepEqual(filesUnder(installedPackage), installed!.files, "the gate wrote into the installed package");
  t.true(existsSync(join(cache, "build")) && readdirSync(join(cache, "build")).some((name) => name.startsWith("amd64-static-")), "no build in the cache");
});
