/**
 * The files the failing cases point at: one layout, made fresh in a temp
 * directory per run on the host and user tiers, and packed into the
 * initramfs (under /fixtures) on the system tier.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isRunning } from "../process/process-tree.ts";
import { onCleanup } from "../process/run-cleanup.ts";
import type { DirectoryKind, PathKind, ResolvedPaths } from "../../src/spawn-case.ts";
import { fileNameBytes } from "../../src/protocol.ts";

export interface Fixtures extends ResolvedPaths {
  remove(): void;
}

/** One entry of the layout; `name` is relative to the fixtures directory. */
export type FixtureEntry =
  | { name: string; kind: "file"; content: Buffer; mode: number }
  | { name: string; kind: "directory" }
  | { name: string; kind: "symlink"; target: string };

const tooLong = `/${"n".repeat(4200)}`; /* over PATH_MAX (4096) */

/** The layout inside `directory` (symlink targets are absolute, so they depend on it). */
export function fixtureEntries(directory: string): FixtureEntry[] {
  return [
    { name: "not-executable", kind: "file", content: Buffer.from("#!/bin/sh\n"), mode: 0o644 },
    { name: "garbage", kind: "file", content: Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]), mode: 0o755 },
    { name: "a-file", kind: "file", content: Buffer.alloc(0), mode: 0o644 },
    { name: "a-directory", kind: "directory" },
    { name: "loop-a", kind: "symlink", target: join(directory, "loop-b") },
    { name: "loop-b", kind: "symlink", target: join(directory, "loop-a") },
  ];
}

/** Each name of a record as the case's byte string (src/protocol.ts fileNameBytes). */
function asBytes<Kind extends string>(names: Record<Kind, string>): Record<Kind, string> {
  return Object.fromEntries(Object.entries<string>(names).map(([kind, name]) => [kind, fileNameBytes(name)])) as Record<Kind, string>;
}

/** Where each path and directory kind points, for fixtures in `directory`; path and directory as the case's byte strings. */
export function resolveFixturePaths(directory: string, execTarget: string): ResolvedPaths {
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
  return { execTarget, fixturesDirectory: directory, path: asBytes(path), directory: asBytes(directories) };
}

/** Fixture directories are named vforkcheck-<pid of the run>-XXXXXX. */
const fixturePrefix = "vforkcheck-";
const fixtureOfRun = new RegExp(`^${fixturePrefix}(\\d+)-[A-Za-z0-9]{6}$`);

/**
 * A run killed by SIGKILL cannot remove its fixture directories; the next
 * run does: every vforkcheck-<pid>-* in the temp directory whose run is
 * gone. A live process with that pid keeps its directory (pids are reused:
 * when in doubt, keep it).
 */
export function removeFixturesOfDeadRuns(temporary = tmpdir()): string[] {
  const removed: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(temporary);
  } catch {
    return removed;
  }
  for (const name of names) {
    const match = fixtureOfRun.exec(name);
    if (!match || Number(match[1]) === process.pid || isRunning(Number(match[1]))) continue;
    rmSync(join(temporary, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

let sweptDeadRuns = false;

/** The layout written to a fresh temp directory of this machine, removed at cleanup. */
export function createFixtures(execTarget: string): Fixtures {
  if (!sweptDeadRuns) {
    sweptDeadRuns = true;
    removeFixturesOfDeadRuns();
  }
  const directory = mkdtempSync(join(tmpdir(), `${fixturePrefix}${process.pid}-`));
  chmodSync(directory, 0o755);
  for (const entry of fixtureEntries(directory)) {
    const path = join(directory, entry.name);
    if (entry.kind === "file") writeFileSync(path, entry.content, { mode: entry.mode });
    else if (entry.kind === "directory") mkdirSync(path);
    else symlinkSync(entry.target, path);
  }
  return {
    ...resolveFixturePaths(directory, execTarget),
    remove: onCleanup(() => rmSync(directory, { recursive: true, force: true })).run,
  };
}
