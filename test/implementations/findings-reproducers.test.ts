// Each Go reproducer under docs/findings/ builds with the Debian Go release
// whose bug it shows (go@V, from the registry) and shows it (exit 1),
// without vforkcheck. Built again against that release's src/syscall with
// the bug fixed (go build -overlay, no tree copy), it exits 0: the program
// tells the bug's presence, not just its own.
import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { catalogueDirectory, readCatalogue } from "../../harness/run/findings.ts";
import { goToolchain } from "../../harness/implementations/go.ts";

/** Per finding: the Go release whose bug it shows (go@V from the registry), and the fix as replacements in one file of its src/syscall. */
interface Fix {
  release: string;
  file: string;
  replacements: readonly (readonly [string, string])[];
}

const fixes: Record<string, Fix> = {
  // Close the map pipe before returning clone's error.
  "go-map-pipe-leak": {
    release: "1.19",
    file: "exec_linux.go",
    replacements: [
      [
        "\tif err1 != 0 {\n\t\treturn 0, err1\n\t}\n\n\t// parent; return PID",
        "\tif err1 != 0 {\n\t\tif sys.UidMappings != nil || sys.GidMappings != nil {\n\t\t\tClose(p[0])\n\t\t\tClose(p[1])\n\t\t}\n\t\treturn 0, err1\n\t}\n\n\t// parent; return PID",
      ],
    ],
  },
  // Move the error pipe only when pass 2 would overwrite it (below len(fd)), not always to nextfd.
  "go-nextfd-overwrite": { release: "1.19", file: "exec_linux.go", replacements: [["\tif pipe < nextfd {\n", "\tif pipe < len(fd) {\n"]] },
  // Open the id-map files close-on-exec, as every other descriptor the syscall package opens is.
  "go-id-map-file-leak": {
    release: "1.26",
    file: "exec_linux.go",
    replacements: [
      ["fd, err := Open(path, O_RDWR, 0)", "fd, err := Open(path, O_RDWR|O_CLOEXEC, 0)"],
      ["fd, err := Open(sgf, O_RDWR, 0)", "fd, err := Open(sgf, O_RDWR|O_CLOEXEC, 0)"],
    ],
  },
  // Close the pidfd when the child failed, as Go 1.23's forkAndExecFailureCleanup does.
  "go-pidfd-exec-failure-leak": {
    release: "1.22",
    file: "exec_unix.go",
    replacements: [["\t\t\t_, err1 = Wait4(pid, &wstatus, 0, nil)\n\t\t}\n\t\treturn 0, err\n", "\t\t\t_, err1 = Wait4(pid, &wstatus, 0, nil)\n\t\t}\n\t\tif sys.PidFD != nil && *sys.PidFD != -1 {\n\t\t\tClose(*sys.PidFD)\n\t\t\t*sys.PidFD = -1\n\t\t}\n\t\treturn 0, err\n"]],
  },
};

const directory = mkdtempSync(join(tmpdir(), "vfc-reproducers-"));
test.after.always(() => rmSync(directory, { recursive: true, force: true }));

/** The release's go, with the environment that keeps it to itself. */
async function goOf(release: string) {
  const goroot = (await goToolchain({ name: "go", version: release })).goroot;
  return { goroot, go: join(goroot, "bin", "go"), env: { ...process.env, GOROOT: goroot, CGO_ENABLED: "0", GOTOOLCHAIN: "local" } };
}

type Go = Awaited<ReturnType<typeof goOf>>;

function build(go: Go, findingDirectory: string, output: string, extra: string[] = []) {
  return spawnSync(go.go, ["build", ...extra, "-o", output, "."], { cwd: findingDirectory, encoding: "utf8", timeout: 240_000, env: go.env });
}

/** An overlay that replaces the release's src/syscall/<file> by a copy with the fix. */
function fixedOverlay(go: Go, id: string, fix: Fix): string {
  const original = join(go.goroot, "src", "syscall", fix.file);
  let source = readFileSync(original, "utf8");
  for (const [from, to] of fix.replacements) {
    if (!source.includes(from)) throw new Error(`${original}: no ${JSON.stringify(from)} to patch for ${id}`);
    source = source.replace(from, to);
  }
  const patched = join(directory, `${id}-${fix.file}`);
  writeFileSync(patched, source);
  const overlay = join(directory, `${id}-overlay.json`);
  writeFileSync(overlay, JSON.stringify({ Replace: { [original]: patched } }));
  return overlay;
}

const goFindings = readCatalogue(catalogueDirectory).filter((finding) => finding.runtime === "go");

test("every Go reproducer has its fix here", (t) => {
  t.true(goFindings.length >= 4);
  t.deepEqual(goFindings.map((finding) => finding.id).filter((id) => fixes[id] === undefined), []);
});

for (const finding of goFindings) {
  const fix = fixes[finding.id];
  const title = `${finding.id}: the reproducer exits 1 with Debian's Go ${fix?.release ?? "?"}, 0 with the bug fixed`;
  test(title, async (t) => {
    if (fix === undefined) return t.fail(`no fix for ${finding.id} in this test`);
    const go = await goOf(fix.release);
    const findingDirectory = join(catalogueDirectory, finding.id);
    const binary = join(directory, finding.id);
    const built = build(go, findingDirectory, binary);
    t.is(built.status, 0, built.stderr);
    const buggy = spawnSync(binary, [], { encoding: "utf8", timeout: 30_000 });
    t.is(buggy.status, 1, `${buggy.stdout}${buggy.stderr}`);
    t.log(`go@${fix.release}: ${buggy.stdout.trim()}`);

    const fixedBinary = `${binary}-fixed`;
    const fixedBuild = build(go, findingDirectory, fixedBinary, ["-overlay", fixedOverlay(go, finding.id, fix)]);
    t.is(fixedBuild.status, 0, fixedBuild.stderr);
    const fixed = spawnSync(fixedBinary, [], { encoding: "utf8", timeout: 30_000 });
    t.is(fixed.status, 0, `${fixed.stdout}${fixed.stderr}`);
  });
}
