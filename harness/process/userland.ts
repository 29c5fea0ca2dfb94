/**
 * Running a program of a runtime's userland (a release's packages unpacked
 * into one root, harness/toolchain/runtime-releases.ts) on this machine's
 * kernel, without installing it: through the loader of that root, with the
 * root's library directories ahead of everything, so that neither the
 * machine's loader nor its libraries take part. Under qemu-user the same
 * root is qemu's -L (harness/targets/target.ts).
 */
import { existsSync, realpathSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { interpreterOf } from "../../src/elf-header.ts";
import { readFileHead } from "./files.ts";

/** The first bytes of a file: enough for an ELF file's program headers and PT_INTERP. */
const head = (path: string) => readFileHead(path, 8192);

/**
 * The startup check of a program of the userland (DriverCommand's
 * startupCheck): its loader run with --version, which starts the userland's
 * libc and nothing of the runtime under test. Where it dies at start (a
 * forky loader under an older qemu-user raises SIGILL), nothing of that
 * userland can run there: a measured skip (harness/targets/startup-check.ts).
 */
export function userlandLoaderCheck(root: string, program: string): { startupCheck: string; startupCheckArgs: string[]; startupCheckIs: string } | Record<string, never> {
  const interpreter = interpreterOf(head(program));
  if (interpreter === undefined) return {};
  return { startupCheck: join(root, interpreter), startupCheckArgs: ["--version"], startupCheckIs: `own loader (${interpreter} --version)` };
}

/**
 * The command that runs `program` (a path inside `root`) natively: the
 * root's own loader (its PT_INTERP, inside the root, whose symlinks are
 * all relative: ensureRelease makes them so) with --library-path naming
 * the root's multiarch and plain library directories, after `aheadOfRoot`
 * (a --node tree's own libuv).
 */
export function userlandCommand(root: string, program: string, args: readonly string[], aheadOfRoot: readonly string[] = []): [string, string[]] {
  const interpreter = interpreterOf(head(program));
  if (interpreter === undefined) return [program, [...args]];
  const loader = join(root, interpreter);
  if (!existsSync(loader)) throw new Error(`${program} names the loader ${interpreter}, which ${root} does not have`);
  const triple = basename(dirname(realpathSync(loader)));
  const directories = (triple.includes("-linux-") ? [join("lib", triple), join("usr", "lib", triple)] : []).concat(["lib", join("usr", "lib")]);
  const libraryPath = directories.map((directory) => join(root, directory)).filter((directory) => existsSync(directory));
  return [loader, ["--library-path", [...aheadOfRoot, ...libraryPath].join(":"), program, ...args]];
}
