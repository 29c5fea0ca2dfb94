// A runtime's unpacked packages made a root of their own (harness/toolchain/userland-root.ts):
// /lib, /bin, ... merged into /usr as usrmerge leaves them, and absolute links made relative.
import test from "ava";
import { lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { completeUserlandRoot, isMergedRoot } from "../../harness/toolchain/userland-root.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";

test("bookworm's /lib/<triple> is merged into /usr/lib/<triple>, and /lib becomes the link usrmerge makes", async (t) => {
  const root = join(scratchDirectory(t, "vfc-userland-"), "root");
  mkdirSync(join(root, "lib", "arm-linux-gnueabihf"), { recursive: true });
  mkdirSync(join(root, "usr", "lib", "arm-linux-gnueabihf"), { recursive: true });
  mkdirSync(join(root, "usr", "bin"), { recursive: true });
  writeFileSync(join(root, "lib", "arm-linux-gnueabihf", "libc.so.6"), "libc");
  writeFileSync(join(root, "usr", "lib", "arm-linux-gnueabihf", "libnode.so.108"), "libnode");
  symlinkSync("/lib/arm-linux-gnueabihf/libc.so.6", join(root, "usr", "lib", "arm-linux-gnueabihf", "libc-link.so"));
  t.false(isMergedRoot(root));
  await completeUserlandRoot(root);
  t.true(isMergedRoot(root), "a cached root of this shape is used as it is");
  t.is(readlinkSync(join(root, "lib")), join("usr", "lib"));
  t.is(readlinkSync(join(root, "bin")), join("usr", "bin"));
  t.is(readFileSync(join(root, "usr", "lib", "arm-linux-gnueabihf", "libc.so.6"), "utf8"), "libc", "found where a loader searching /usr/lib/<triple> looks");
  t.is(readFileSync(join(root, "lib", "arm-linux-gnueabihf", "libnode.so.108"), "utf8"), "libnode", "and through /lib");
  const link = join(root, "usr", "lib", "arm-linux-gnueabihf", "libc-link.so");
  t.false(readlinkSync(link).startsWith("/"), "absolute links made relative");
  t.is(realpathSync(link), realpathSync(join(root, "usr", "lib", "arm-linux-gnueabihf", "libc.so.6")));
});

test("a file shipped both in /lib and in /usr/lib is refused, not overwritten", async (t) => {
  const root = join(scratchDirectory(t, "vfc-userland-"), "root");
  mkdirSync(join(root, "lib"), { recursive: true });
  mkdirSync(join(root, "usr", "lib"), { recursive: true });
  writeFileSync(join(root, "lib", "libz.so.1"), "a");
  writeFileSync(join(root, "usr", "lib", "libz.so.1"), "b");
  await t.throwsAsync(completeUserlandRoot(root), { message: /libz\.so\.1 is shipped both/ });
  t.true(lstatSync(join(root, "usr", "lib", "libz.so.1")).isFile());
});
