/**
 * A Debian source package, downloaded through the private apt (apt checks
 * each file against the suite's signed Sources index), checked against its
 * .dsc's Checksums-Sha256, unpacked with Debian's patches applied, and
 * cached: what test/helpers/musl-source.ts and libuv-source.ts build from.
 *
 * Cache ($VFORKCHECK_CACHE or ~/.cache/vforkcheck): <name>/<version>/, the
 * unpacked source and dsc.sha256 (buildAtomically: a scratch directory
 * renamed into place).
 */
import { existsSync, readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { archiveUrl, buildAtomically, cacheDirectory, downloadSourcePackage, fetchOnce, lastError, runCommand, sha256Of } from "../../harness/toolchain/debian-archive.ts";

/** The .dsc's Checksums-Sha256 lines: file name to sha256. */
export function dscChecksums(text: string): Map<string, string> {
  const block = /^Checksums-Sha256:\s*\n((?:[ \t]+\S.*\n?)+)/m.exec(text);
  if (block === null) throw new Error("the .dsc has no Checksums-Sha256 field");
  return new Map(block[1]!.trim().split("\n").map((line) => {
    const [sha256, , name] = line.trim().split(/\s+/);
    return [name!, sha256!] as const;
  }));
}

/** Runs a command of the build; its failure says what it was for. */
export async function run(argv: readonly string[], cwd: string, what: string): Promise<string> {
  const result = await runCommand(argv, cwd);
  if (result.status !== 0) throw new Error(`${what}: ${argv.join(" ")} failed (status ${result.status}): ${lastError(result)}`);
  return result.stdout;
}

/** The checked, unpacked source (orig tarball, Debian's tarball, its patches applied); resolves with its directory and the .dsc's sha256. */
export async function unpackedDebianSource(cacheName: string, suite: string, sourcePackage: string, version: string, log: (line: string) => void): Promise<{ directory: string; dscSha256: string }> {
  const directory = join(cacheDirectory(), cacheName, version);
  const record = join(directory, "dsc.sha256");
  if (!existsSync(record)) {
    await fetchOnce(directory, () =>
      buildAtomically(directory, async (scratch, output) => {
        const dsc = await downloadSourcePackage(suite, sourcePackage, version, scratch, log).catch((error: unknown) => {
          // apt's own message names neither the release nor the archive: both say where to look.
          throw new Error(`the source package ${sourcePackage} ${version} (${suite}) from ${archiveUrl()}: ${error instanceof Error ? error.message : String(error)}`);
        });
        const checksums = dscChecksums(await readFile(dsc, "utf8"));
        for (const [name, sha256] of checksums) {
          const measured = await sha256Of(join(scratch, name));
          if (measured !== sha256) throw new Error(`${name}: sha256 ${measured}, the .dsc says ${sha256}`);
        }
        const tarball = (pattern: RegExp) => [...checksums.keys()].find((name) => pattern.test(name));
        const orig = tarball(/\.orig\.tar\.\w+$/);
        if (orig === undefined) throw new Error("the .dsc names no .orig tarball");
        await run(["tar", "-xf", join(scratch, orig), "-C", output, "--strip-components=1"], scratch, "unpacking the source");
        const debian = tarball(/\.debian\.tar\.\w+$/);
        if (debian !== undefined) await run(["tar", "-xf", join(scratch, debian), "-C", output], scratch, "unpacking debian/");
        // series may list a patch commented out (#iovec_rw_fix.patch): Debian does not apply it, nor does this.
        const series = join(output, "debian", "patches", "series");
        const patches = existsSync(series) ? readFileSync(series, "utf8").split("\n").map((line) => line.replace(/#.*/, "").trim()).filter(Boolean) : [];
        for (const patch of patches) await run(["patch", "-p1", "--batch", "-i", join("debian", "patches", patch)], output, `Debian's patch ${patch}`);
        await writeFile(join(output, "dsc.sha256"), `${await sha256Of(dsc)}\n`);
      }),
    );
  }
  return { directory, dscSha256: readFileSync(record, "utf8").trim() };
}
