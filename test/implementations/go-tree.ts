// For the tests that gate a runtime fork: a patched copy of the default Go
// release's tree (go@1.19 from the registry, passed with --goroot), a tree
// that says it is Go's master (`devel go1.27-...`, built from the newest
// release), and a gate run of --impl go on amd64/host.
import { execFile, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultGoRoot, goToolchain } from "../../harness/implementations/go.ts";
import { buildRoot } from "../../harness/build/build.ts";
import { releasesOf } from "../../src/runtime-releases.ts";

export interface GateResult {
  status: number | null;
  result: { status: string; reason: string; counterexample: string | null; replay: string | null; known?: { finding: string; status: string }[] };
  output: string;
}

/** Copies the default release's GOROOT (or `from`) into directory/go and applies each replacement to src/syscall/<file>; throws if one is not found. */
export async function patchedGoTree(directory: string, file: string, replacements: readonly (readonly [string, string])[], from?: string): Promise<string> {
  const installed = from ?? (await defaultGoRoot());
  const fork = join(directory, "go");
  cpSync(installed, fork, { recursive: true, dereference: true });
  patchSyscall(fork, file, replacements);
  return fork;
}

/** What `go version` of a develGoTree prints after "go version ": a build of Go's master, as a fork of it says. */
export const develVersion = "devel go1.27-abc1234 Tue Jan 6 12:00:00 2026 +0000";

/**
 * A copy, in directory/go, of the registry's newest Go release rebuilt as
 * Go's master says it is: `go version` prints the runtime.Version() the
 * linker wrote into cmd/go, which is internal/buildcfg's version, and the
 * compiler, assembler and linker stamp it into every object and refuse
 * objects of another; so buildcfg's version (and VERSION, for consistency)
 * becomes develVersion and the four tools are rebuilt with it, the linker
 * first so that the new cmd/go is linked by a linker of the new version.
 * That is a whole devel toolchain at a third of make.bash's cost (which
 * builds the toolchain three times over). Built once, before the tests
 * (test/setup.ts, "builds": ["go-devel"] in test/requirements.json), and
 * kept in the build cache keyed by the release and develVersion. With
 * replacements, src/syscall/<file> (exec_linux.go unless named) is patched
 * as patchedGoTree does (the standard library is compiled from source at
 * each build: no rebuild).
 */
export async function develGoTree(directory: string, replacements: readonly (readonly [string, string])[] = [], file = "exec_linux.go"): Promise<string> {
  const built = await develToolchain();
  const fork = join(directory, "go");
  cpSync(built, fork, { recursive: true });
  if (replacements.length) patchSyscall(fork, file, replacements);
  return fork;
}

/** The devel toolchain of develGoTree, built when it is not in the build cache; its path. */
export async function develToolchain(onBuild?: (line: string) => void): Promise<string> {
  const newest = releasesOf("go").at(-1)!;
  const release = (await goToolchain({ name: "go", version: newest.version })).goroot;
  const cached = join(buildRoot, `go-devel-${newest.version}-${develVersion.split(" ")[1]}`);
  if (existsSync(join(cached, "bin", "go"))) return cached;
  mkdirSync(buildRoot, { recursive: true });
  const temporary = mkdtempSync(`${cached}.tmp-`);
  try {
    onBuild?.(`building go@${newest.version} as ${develVersion.split(" ").slice(0, 2).join(" ")} (compiler, assembler, linker, go command) for the tests that gate a fork of Go's master`);
    const tree = join(temporary, "go");
    cpSync(release, tree, { recursive: true, dereference: true });
    const buildcfg = join(tree, "src", "internal", "buildcfg", "zbootstrap.go");
    const source = readFileSync(buildcfg, "utf8");
    const versionLine = /^const version = `[^`]*`$/m;
    if (!versionLine.test(source)) throw new Error(`${buildcfg}: no 'const version = \`...\`' line to make the toolchain a devel one`);
    writeFileSync(buildcfg, source.replace(versionLine, `const version = \`${develVersion}\``));
    writeFileSync(join(tree, "VERSION"), `${develVersion}\n`);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, GOROOT: tree, GOCACHE: join(temporary, "cache"), GOTOOLCHAIN: "local", GOENV: "off", GOPROXY: "off", CGO_ENABLED: "0", GOFLAGS: "" };
    // Asynchronous: npm test's set-up fetches the other releases meanwhile.
    for (const tools of [["cmd/link", "cmd/asm", "cmd/compile"], ["cmd/go"]]) {
      await new Promise<void>((resolve, reject) =>
        execFile(join(tree, "bin", "go"), ["install", ...tools], { env, encoding: "utf8", timeout: 900_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
          if (error) reject(new Error(`go install ${tools.join(" ")} for the devel tree failed (${error.message.split("\n")[0]}):\n${`${stdout}${stderr}`.trim().split("\n").slice(-10).join("\n")}`));
          else resolve();
        }),
      );
    }
    const said = spawnSync(join(tree, "bin", "go"), ["version"], { env, encoding: "utf8" }).stdout.trim();
    if (!said.startsWith(`go version ${develVersion}`)) throw new Error(`the devel tree's go version says "${said}", not ${develVersion}`);
    try {
      renameSync(tree, cached);
    } catch (error) {
      // Another process built it first.
      if (!existsSync(join(cached, "bin", "go"))) throw error;
    }
  } finally {
    rmSync(temporary, { recursive: true, force: true });
  }
  return cached;
}

function patchSyscall(fork: string, file: string, replacements: readonly (readonly [string, string])[]): void {
  const path = join(fork, "src", "syscall", file);
  let source = readFileSync(path, "utf8");
  for (const [from, to] of replacements) {
    if (!source.includes(from)) throw new Error(`${path}: the Go tree has no ${JSON.stringify(from)} to patch`);
    source = source.replace(from, to);
  }
  writeFileSync(path, source);
}

/** One property of the gate on --impl go (or a release, go@1.24), amd64/host, 30 runs unless told, seed 1 (extra: --goroot DIR). */
export function goGate(directory: string, property: string, extra: string[], implementation = "go", runs = 30): GateResult {
  const report = join(directory, `gate-${implementation}-${extra.length}.json`);
  const run = spawnSync(
    process.execPath,
    ["--import=tsx", "harness/cli/vforkcheck.ts", "gate", "--impl", implementation, ...extra, "--arch", "amd64", "--tier", "host", "--property", property, "--runs", String(runs), "--seed", "1", "--case-deadline", "5", "--report", report],
    { encoding: "utf8", timeout: 280_000 },
  );
  const result = (JSON.parse(readFileSync(report, "utf8")) as { results: GateResult["result"][] }).results[0]!;
  return { status: run.status, result, output: `${run.stdout}\n${run.stderr}` };
}
