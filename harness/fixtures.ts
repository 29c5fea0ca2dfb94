/** The files the failing cases point at, made fresh in a temp directory per run. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onCleanup } from "./run-cleanup.ts";
import type { DirectoryKind, PathKind, ResolvedPaths } from "../src/spawn-case.ts";

export interface Fixtures extends ResolvedPaths {
  remove(): void;
}

const tooLong = `/${"n".repeat(4200)}`; /* over PATH_MAX (4096) */

export function createFixtures(execTarget: string): Fixtures {
  const directory = mkdtempSync(join(tmpdir(), "vforkcheck-"));
  chmodSync(directory, 0o755);
  writeFileSync(join(directory, "not-executable"), "#!/bin/sh\n", { mode: 0o644 });
  writeFileSync(join(directory, "garbage"), Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]), { mode: 0o755 });
  writeFileSync(join(directory, "a-file"), "", { mode: 0o644 });
  mkdirSync(join(directory, "a-directory"));
  symlinkSync(join(directory, "loop-b"), join(directory, "loop-a"));
  symlinkSync(join(directory, "loop-a"), join(directory, "loop-b"));
  const path: Record<PathKind, string> = {
    "exec-target": execTarget,
    missing: join(directory, "missing"),
    "not-executable": join(directory, "not-executable"),
    garbage: join(directory, "garbage"),
    "through-file": join(directory, "a-file", "x"),
    "symlink-loop": join(directory, "loop-a"),
    "name-too-long": tooLong,
  };
  const directories: Record<Exclude<DirectoryKind, "none">, string> = {
    fixtures: join(directory, "a-directory"),
    root: "/",
    missing: join(directory, "missing-directory"),
    "a-file": join(directory, "a-file"),
    "name-too-long": tooLong,
  };
  return {
    execTarget,
    fixturesDirectory: directory,
    path,
    directory: directories,
    remove: onCleanup(() => rmSync(directory, { recursive: true, force: true })).run,
  };
}
