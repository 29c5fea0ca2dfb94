// A runtime in a userland reaches a VM whole (harness/build/initramfs.ts):
// the userland's directories, files and (relative) symlinks at the root, and
// /driver the driver script behind a #! line naming the runtime's program
// inside it, so init's "/driver --driver" runs "<program> /driver --driver".
// A program outside the userland, or a command of another shape, is refused.
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { systemInitramfs } from "../../harness/build/initramfs.ts";
import { buildNative } from "../../harness/build/build.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";

/** The newc archive's entries: name, mode and content (pure reading of cpioArchive's output). */
function cpioEntries(archive: Buffer): Map<string, { mode: number; content: Buffer }> {
  const entries = new Map<string, { mode: number; content: Buffer }>();
  let at = 0;
  const field = (index: number) => parseInt(archive.toString("latin1", at + 6 + index * 8, at + 14 + index * 8), 16);
  const pad = (offset: number) => (offset + 3) & ~3;
  for (;;) {
    const mode = field(1), size = field(6), nameSize = field(11);
    const name = archive.toString("latin1", at + 110, at + 110 + nameSize - 1);
    const dataAt = pad(at + 110 + nameSize);
    if (name === "TRAILER!!!") return entries;
    entries.set(name, { mode, content: archive.subarray(dataAt, dataAt + size) });
    at = pad(dataAt + size);
  }
}

test("a userland driver: the root's files and links, and /driver as the script behind #!<program>", async (t) => {
  const directory = scratchDirectory(t, "vfc-initramfs-");
  const root = join(directory, "root");
  mkdirSync(join(root, "usr", "bin"), { recursive: true });
  mkdirSync(join(root, "usr", "lib", "python3.11"), { recursive: true });
  writeFileSync(join(root, "usr", "bin", "python3.11"), "\x7fELF interpreter");
  chmodSync(join(root, "usr", "bin", "python3.11"), 0o755);
  writeFileSync(join(root, "usr", "lib", "python3.11", "os.py"), "# os\n");
  symlinkSync("usr/lib", join(root, "lib"));
  const script = join(directory, "driver.py");
  writeFileSync(script, '"""the driver"""\nimport os\n');
  const reference = await buildNative({ arch: "amd64", kind: "static" });

  const entries = cpioEntries(systemInitramfs(reference, { program: join(root, "usr", "bin", "python3.11"), args: [script, "--driver"], userland: root }));
  t.is(entries.get("driver")!.content.toString(), '#!/usr/bin/python3.11\n"""the driver"""\nimport os\n');
  t.is(entries.get("driver")!.mode & 0o777, 0o755);
  t.is(entries.get("usr/bin/python3.11")!.content.toString(), "\x7fELF interpreter");
  t.is(entries.get("usr/lib/python3.11/os.py")!.content.toString(), "# os\n");
  t.is(entries.get("lib")!.mode & 0o170000, 0o120000, "a symlink stays one");
  t.is(entries.get("lib")!.content.toString(), "usr/lib");
  const names = [...entries.keys()];
  t.true(names.indexOf("usr") < names.indexOf("usr/bin") && names.indexOf("usr/bin") < names.indexOf("usr/bin/python3.11"), "parents first");
  t.true(entries.has("init") && entries.has("fixtures"));

  t.throws(() => systemInitramfs(reference, { program: "/usr/bin/python3", args: [script, "--driver"], userland: root }), { message: /is not in the userland/ });
  t.throws(() => systemInitramfs(reference, { program: join(root, "usr", "bin", "python3.11"), args: ["--driver"], userland: root }), { message: /a userland driver is "<program> \[one option\] <script> --driver"/ });
  // One option rides on the #! line (node's --expose-gc); a #! line cannot pass two.
  const withOption = cpioEntries(systemInitramfs(reference, { program: join(root, "usr", "bin", "python3.11"), args: ["-I", script, "--driver"], userland: root }));
  t.is(withOption.get("driver")!.content.toString().split("\n")[0], "#!/usr/bin/python3.11 -I");
  t.throws(() => systemInitramfs(reference, { program: join(root, "usr", "bin", "python3.11"), args: ["-I", "-S", script, "--driver"], userland: root }), { message: /one option/ });
});
