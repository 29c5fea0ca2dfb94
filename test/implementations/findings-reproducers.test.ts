// Each Go reproducer under docs/findings/ builds with Debian's Go (the
// default release, go@1.19, from the registry) and shows its bug (exit 1),
// without vforkcheck. Built again against that Go's syscall/exec_linux.go
// with the bug fixed (go build -overlay, no tree copy), it exits 0: the
// program tells the bug's presence, not just its own.
import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { catalogueDirectory, readCatalogue } from "../../harness/run/findings.ts";
import { defaultGoRoot } from "../../harness/implementations/go.ts";

/** Per finding, the fix as replacements in src/syscall/exec_linux.go of Go 1.19. */
const fixes: Record<string, readonly (readonly [string, string])[]> = {
  // Close the map pipe before returning clone's error.
  "go-map-pipe-leak": [
    [
      "\tif err1 != 0 {\n\t\treturn 0, err1\n\t}\n\n\t// parent; return PID",
      "\tif err1 != 0 {\n\t\tif sys.UidMappings != nil || sys.GidMappings != nil {\n\t\t\tClose(p[0])\n\t\t\tClose(p[1])\n\t\t}\n\t\treturn 0, err1\n\t}\n\n\t// parent; return PID",
    ],
  ],
  // Move the error pipe only when pass 2 would overwrite it (below len(fd)), not always to nextfd.
  "go-nextfd-overwrite": [["\tif pipe < nextfd {\n", "\tif pipe < len(fd) {\n"]],
};

// The default Go release (go@1.19 from the registry), fetched when not cached.
const goroot = await defaultGoRoot();
const go = join(goroot, "bin", "go");
const goEnvironment = { ...process.env, GOROOT: goroot, CGO_ENABLED: "0", GOTOOLCHAIN: "local" };
const goVersion = spawnSync(go, ["version"], { encoding: "utf8", env: goEnvironment });
const directory = mkdtempSync(join(tmpdir(), "vfc-reproducers-"));
test.after.always(() => rmSync(directory, { recursive: true, force: true }));

function build(findingDirectory: string, output: string, extra: string[] = []) {
  return spawnSync(go, ["build", ...extra, "-o", output, "."], { cwd: findingDirectory, encoding: "utf8", timeout: 240_000, env: goEnvironment });
}

/** An overlay that replaces the default release's exec_linux.go by a copy with these replacements. */
function fixedOverlay(id: string, replacements: readonly (readonly [string, string])[]): string {
  const original = join(goroot, "src", "syscall", "exec_linux.go");
  let source = readFileSync(original, "utf8");
  for (const [from, to] of replacements) {
    if (!source.includes(from)) throw new Error(`${original}: no ${JSON.stringify(from)} to patch for ${id}`);
    source = source.replace(from, to);
  }
  const patched = join(directory, `${id}-exec_linux.go`);
  writeFileSync(patched, source);
  const overlay = join(directory, `${id}-overlay.json`);
  writeFileSync(overlay, JSON.stringify({ Replace: { [original]: patched } }));
  return overlay;
}

const goFindings = readCatalogue(catalogueDirectory).filter((finding) => finding.runtime === "go");

test("every Go reproducer has its fix here", (t) => {
  t.true(goFindings.length >= 2);
  t.deepEqual(goFindings.map((finding) => finding.id).filter((id) => fixes[id] === undefined), []);
});

for (const finding of goFindings) {
  const title = `${finding.id}: the reproducer exits 1 with Debian's Go, 0 with the bug fixed`;
  test(title, (t) => {
    const findingDirectory = join(catalogueDirectory, finding.id);
    const binary = join(directory, finding.id);
    const built = build(findingDirectory, binary);
    t.is(built.status, 0, built.stderr);
    const buggy = spawnSync(binary, [], { encoding: "utf8", timeout: 30_000 });
    t.is(buggy.status, 1, `${buggy.stdout}${buggy.stderr}`);
    t.log(`${goVersion.stdout.trim()}: ${buggy.stdout.trim()}`);

    const fixedBinary = `${binary}-fixed`;
    const fixedBuild = build(findingDirectory, fixedBinary, ["-overlay", fixedOverlay(finding.id, fixes[finding.id]!)]);
    t.is(fixedBuild.status, 0, fixedBuild.stderr);
    const fixed = spawnSync(fixedBinary, [], { encoding: "utf8", timeout: 30_000 });
    t.is(fixed.status, 0, `${fixed.stdout}${fixed.stderr}`);
  });
}
