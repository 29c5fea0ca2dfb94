/**
 * ci:fresh (ci/fresh-machine.ts) and bench:selftest (ci/selftest.ts): run as
 * an unprivileged user, each refuses in one line with exit 2; --dry-run lists
 * exactly the set-up's packages that are installed and changes nothing; and
 * the pure parts (src/fresh-machine.ts) on dpkg's and apt's text.
 */
import test from "ava";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../harness/process/project-root.ts";
import { coreTools, findOnPath, systemTierTools } from "../../harness/toolchain/required-tools.ts";
import { describeEnvironment, freshEnvironment, isBaseImagePackage, parseAptSimulation, parseDpkgStatus, removalPlan, setupPackages } from "../../src/fresh-machine.ts";

/** ava has no skip decided at run time: the reason is logged, and the test passes. */
function skip(t: { log: (message: string) => void; pass: () => void }, why: string): void {
  t.log(`skipped: ${why}`);
  t.pass();
}

const script = (name: string) => join(projectRoot, "ci", name);
const tsx = import.meta.resolve("tsx");
const isRoot = process.getuid?.() === 0;

/**
 * The script run as an unprivileged user: directly when this is one, else
 * as nobody through setpriv or runuser; a string saying why not when
 * neither can, or when nobody cannot read the checkout (a private home).
 */
function runUnprivileged(file: string, args: string[]): SpawnSyncReturns<string> | string {
  const node = (...rest: string[]) => ["node", `--import=${tsx}`, ...rest];
  const options = { cwd: projectRoot, encoding: "utf8" as const, env: { PATH: process.env.PATH!, HOME: tmpdir() }, timeout: 60_000 };
  if (!isRoot) return spawnSync("node", node(file, ...args).slice(1), options);
  const drop = findOnPath("setpriv") ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : findOnPath("runuser") ? ["runuser", "-u", "nobody", "--"] : undefined;
  if (drop === undefined) return "root here, and neither setpriv nor runuser to drop to nobody";
  const probe = spawnSync(drop[0]!, [...drop.slice(1), ...node("-e", `require("fs").accessSync(${JSON.stringify(file)}, require("fs").constants.R_OK)`)], options);
  if (probe.status !== 0) return `nobody cannot run node with tsx on ${file} here: ${(probe.stderr || probe.error?.message || "").trim().split("\n").at(-1)}`;
  return spawnSync(drop[0]!, [...drop.slice(1), ...node(file, ...args)], options);
}

for (const [file, name] of [["fresh-machine.ts", "ci:fresh"], ["selftest.ts", "bench:selftest"]] as const) {
  test(`${name} refuses an unprivileged user in one line, exit 2, whatever the arguments`, (t) => {
    for (const args of [[], ["--dry-run"]]) {
      const run = runUnprivileged(script(file), args);
      if (typeof run === "string") return skip(t, run);
      t.is(run.status, 2, run.stderr);
      t.is(run.stdout, "");
      t.is(run.stderr, `${name}: needs root: it removes Debian packages with apt-get, as CI's fresh machine lacks them (run it as root, as CI does)\n`);
    }
  });
}

/** The set-up's packages this machine has installed, asked of dpkg here, not through the script's code. */
function installedSetupPackages(): { setup: string[]; installed: string[] } {
  const setup = [...new Set([...coreTools(), ...systemTierTools()].flatMap((tool) => ("debianPackage" in tool ? [tool.debianPackage] : [])))].filter((name) => name !== "python3");
  const installed = setup.filter((name) => spawnSync("dpkg-query", ["-W", "-f=${db:Status-Status}", name], { encoding: "utf8" }).stdout === "installed");
  return { setup, installed };
}

const fresh = (args: string[]) => spawnSync("node", [`--import=${tsx}`, script("fresh-machine.ts"), ...args], { cwd: projectRoot, encoding: "utf8", timeout: 120_000 });
const freshTemporaries = () => readdirSync(tmpdir()).filter((name) => name.startsWith("vforkcheck-fresh-") || name.startsWith("vforkcheck-ci-fresh-"));

test("ci:fresh --dry-run lists exactly the set-up's packages that are installed, and removes, clones and runs nothing", (t) => {
  if (!isRoot) return skip(t, "--dry-run runs as root only (see the refusal test)");
  if (!findOnPath("dpkg-query") || !findOnPath("apt-get")) return skip(t, "not a Debian machine (no dpkg-query or apt-get)");
  const before = installedSetupPackages();
  const temporariesBefore = freshTemporaries();
  const run = fresh(["--dry-run"]);
  const after = installedSetupPackages();
  t.is(run.status, 0, run.stderr);
  const line = (prefix: string) => run.stdout.split("\n").find((l) => l.startsWith(`ci:fresh: ${prefix}`))?.slice(`ci:fresh: ${prefix}`.length);
  t.deepEqual(after, before, "the dry run removed nothing");
  t.deepEqual(line("set-up's packages (coreTools, systemTierTools): ")?.split(" "), before.setup);
  t.deepEqual(line("would remove (installed): ")?.split(" "), before.installed.length ? before.installed : ["(none)"]);
  const notInstalled = before.setup.filter((name) => !before.installed.includes(name));
  t.deepEqual(line("not installed: ")?.split(" "), notInstalled.length ? notInstalled : undefined);
  const autoremoved = line("would autoremove with them (apt-get -s): ")!.split(" ");
  t.false(autoremoved.some(isBaseImagePackage), "python3 and its packages are never in the removal");
  t.regex(run.stdout, /^ci:fresh: would clone \S+ at [0-9a-f]{40} \(HEAD\) into /m);
  t.regex(run.stdout, /^ci:fresh: would run there: CI=true VFORKCHECK_CACHE=\S+ XDG_CACHE_HOME=\S+ npm_config_cache=\S+ APT_CONFIG=\S+ bash \.ci\/run \(no stdin; deadline 90 min; /m);
  t.deepEqual(freshTemporaries(), temporariesBefore, "no temporary directory or log was made");
});

test("ci:fresh: bad arguments are one line, exit 2", (t) => {
  if (!isRoot) return skip(t, "a non-root user is refused before the arguments are read");
  const run = fresh(["--deadline", "soon"]);
  t.is(run.status, 2);
  t.is(run.stdout, "");
  t.is(run.stderr.trimEnd().split("\n").length, 1);
  t.regex(run.stderr, /^ci:fresh: --deadline: minutes, a positive number; usage: /);
});

test("set-up's packages: each once, in table order, none for a fetched tool, never python3", (t) => {
  const tools = [
    { command: "clang-19", debianPackage: "clang-19" },
    { name: "qemu-user (pinned)", fetch: async () => undefined },
    { command: "qemu-system-x86_64", debianPackage: "qemu-system-x86" },
    { command: "qemu-system-i386", debianPackage: "qemu-system-x86" },
    { command: "python3", debianPackage: "python3" },
    { command: "zstd", debianPackage: "zstd" },
  ];
  t.deepEqual(setupPackages(tools), ["clang-19", "qemu-system-x86", "zstd"]);
  for (const name of ["python3", "python3-minimal", "python3.11", "libpython3-stdlib", "libpython3.11-minimal"]) t.true(isBaseImagePackage(name), name);
  for (const name of ["clang-19", "libllvm19", "qemu-system-data"]) t.false(isBaseImagePackage(name), name);
});

test("dpkg's status and apt's simulation read; the plan keeps named and autoremoved apart and flags the base image", (t) => {
  const status = parseDpkgStatus("clang-19\tinstalled\nzstd\tconfig-files\nlld-19\tinstalled\nstrace\tnot-installed\n");
  t.deepEqual([...status], ["clang-19", "lld-19"]);
  const simulation = [
    "Reading package lists...",
    "The following packages will be REMOVED:",
    "  clang-19* libllvm19*",
    "Purg clang-19 [1:19.1.7-3~deb12u1]",
    "Purg libllvm19 [1:19.1.7-3~deb12u1]",
    "Remv libclang1-19:amd64 [1:19.1.7-3~deb12u1]",
    "Purg lld-19 [1:19.1.7-3~deb12u1]",
  ].join("\n");
  t.deepEqual(parseAptSimulation(simulation), ["clang-19", "libllvm19", "libclang1-19", "lld-19"]);
  t.deepEqual(removalPlan(["clang-19", "lld-19", "strace", "zstd"], status, parseAptSimulation(simulation)), {
    setup: ["clang-19", "lld-19", "strace", "zstd"],
    remove: ["clang-19", "lld-19"],
    notInstalled: ["strace", "zstd"],
    autoremove: ["libllvm19", "libclang1-19"],
    baseImage: [],
  });
  t.deepEqual(removalPlan(["clang-19"], new Set(["clang-19"]), ["clang-19", "python3", "libpython3.11-stdlib"]).baseImage, ["python3", "libpython3.11-stdlib"]);
});

test("the fresh clone's environment: npm run's own variables gone, the caches set; printed as NAME=value words", (t) => {
  const env = freshEnvironment(
    { PATH: "/usr/bin", HOME: "/root", npm_config_cache: "/root/.npm", npm_lifecycle_event: "ci:fresh", INIT_CWD: "/src/vforkcheck", NPM_CONFIG_REGISTRY: "https://r", VFORKCHECK_CACHE: "/old" },
    { CI: "true", VFORKCHECK_CACHE: "/tmp/c/vforkcheck", npm_config_cache: "/tmp/c/npm" },
  );
  t.deepEqual(env, { PATH: "/usr/bin", HOME: "/root", NPM_CONFIG_REGISTRY: "https://r", CI: "true", VFORKCHECK_CACHE: "/tmp/c/vforkcheck", npm_config_cache: "/tmp/c/npm" });
  t.is(describeEnvironment({ CI: "true", X: "a b", Y: "it's" }), `CI=true X='a b' Y='it'\\''s'`);
});
