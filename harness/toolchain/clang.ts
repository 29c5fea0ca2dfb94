import { tmpdir } from "node:os";
import { dirname } from "node:path";
import type { BrokenError } from "../../src/broken.ts";
import { noSpaceFault } from "../../src/machine-faults.ts";
import { spawnDyingWithHarness } from "../process/dies-with-harness.ts";
import { spaceOf } from "../process/machine-faults.ts";

export const clangCommand = "clang-19";

let compilations = 0;

/** How many times this process has started the compiler to build something (not `--version`). */
export function compilerRunCount(): number {
  return compilations;
}

/** Thrown when clang rejects the sources; the message carries clang's first error lines. */
export class CompileError extends Error {}

let version: Promise<string> | undefined;

/** `clang-19 --version`, asked once per process: it is part of every build's cache key. */
export function clangVersion(): Promise<string> {
  version ??= runProcess(["--version"]).then(({ status, stdout, stderr }) => {
    if (status !== 0) throw new Error(`${clangCommand} --version failed: ${stderr.trim()}`);
    return stdout;
  });
  return version;
}

/** Compiles; resolves with clang's warnings (stderr), rejects with CompileError. */
export async function compile(args: readonly string[], cwd: string, what: string): Promise<string> {
  compilations += 1;
  const { status, stderr } = await runProcess(args, cwd);
  if (status !== 0) throw diskFullFault(args, stderr) ?? new CompileError(`${clangCommand} failed building ${what} (status ${status}):\n${firstErrorLines(stderr)}`);
  return stderr;
}

/** Free space below which a compiler's death is the disk's: a driver and its objects take well under a MiB. */
const nearlyFullBytes = 4 << 20;

/**
 * The fault of a compiler that died of a full disk: it says so ("No space
 * left on device"), or its linker, which writes the output through mmap,
 * dies of SIGBUS ("Bus error") when a tmpfs has no page left for it. Said
 * only when the output's filesystem or TMPDIR's (clang's objects) is
 * nearly full, so that a compiler's own crash stays one.
 */
function diskFullFault(args: readonly string[], stderr: string): BrokenError | undefined {
  if (!/No space left on device|Bus error/i.test(stderr)) return undefined;
  const output = args[args.indexOf("-o") + 1];
  for (const place of [...(args.includes("-o") && output ? [dirname(output)] : []), tmpdir()]) {
    const space = spaceOf(place);
    if (space && space.freeBytes < nearlyFullBytes) return noSpaceFault(place, space);
  }
  return undefined;
}

function firstErrorLines(stderr: string, count = 10): string {
  const lines = stderr.split("\n").filter((line) => line.trim() !== "");
  const errors = lines.filter((line) => /\berror\b/i.test(line));
  return (errors.length > 0 ? errors : lines).slice(0, count).join("\n");
}

interface Finished {
  status: number;
  stdout: string;
  stderr: string;
}

function runProcess(args: readonly string[], cwd?: string): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawnDyingWithHarness(clangCommand, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error: NodeJS.ErrnoException) => {
      reject(error.code === "ENOENT" ? new Error(`${clangCommand} not found; run: npx vforkcheck setup`) : error);
    });
    child.on("close", (code, signal) => {
      resolve({ status: code ?? 128, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() + (signal ? `killed by ${signal}\n` : "") });
    });
  });
}
