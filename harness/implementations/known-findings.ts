/**
 * Reads the known-findings file each implementation of a run uses (--known
 * FILE, else the implementation's own, else none) and the version its
 * patterns are matched against. Files are read and validated first, before
 * any tool is installed or built; versions afterwards (Go's needs go).
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, statSync, type Stats } from "node:fs";
import { globMatches, KnownFindingsError, parseKnownFindings, type KnownFinding } from "../../src/known-findings.ts";
import { everyImplementationName, implementationLabel, implementationOf, implementationVersion } from "./index.ts";
import type { ImplementationSpec } from "../../src/implementation-spec.ts";

/** What a target's property runs need to count known cases and run reproducers. */
export interface KnownContext {
  file: string;
  implementation: string;
  version: string;
  findings: readonly KnownFinding[];
}

export interface KnownFiles {
  /** Per implementation label ("go", "go@/path"): its file and findings, when it has a file. */
  byImplementation: Map<string, { file: string; findings: KnownFinding[] }>;
}

/** What a file that is not a regular file is, for the message. */
function fileKind(stats: Stats): string {
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isDirectory()) return "a directory";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice()) return "a character device";
  return stats.isBlockDevice() ? "a block device" : "not a regular file";
}

/**
 * The file's text, read only from a regular file (or /dev/null, the way to
 * say "no findings"): a FIFO nobody writes would block the gate, /dev/zero
 * never ends. Opened without blocking (a FIFO's open waits for a writer)
 * and judged by what was opened, not by a name that may change in between.
 */
function readRegularFile(file: string): string {
  let descriptor: number;
  try {
    descriptor = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    throw new KnownFindingsError(`--known: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    const stats = fstatSync(descriptor);
    if (stats.isCharacterDevice() && stats.rdev === statSync("/dev/null").rdev) return "";
    if (!stats.isFile()) throw new KnownFindingsError(`--known: ${file} is ${fileKind(stats)}, not a regular file (give a JSON file of findings, or /dev/null for none)`);
    return readFileSync(descriptor, "utf8");
  } catch (error) {
    if (error instanceof KnownFindingsError) throw error;
    throw new KnownFindingsError(`--known: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  } finally {
    closeSync(descriptor);
  }
}

function readFindings(file: string, properties: readonly string[]): KnownFinding[] {
  return parseKnownFindings(readRegularFile(file), file, { implementations: everyImplementationName, properties });
}

/** Validates every file the run uses; throws a one-line KnownFindingsError (exit 2) at the first fault. */
export function loadKnownFiles(implementations: readonly ImplementationSpec[], explicitFile: string | undefined, properties: readonly string[]): KnownFiles {
  const byImplementation = new Map<string, { file: string; findings: KnownFinding[] }>();
  const explicit = explicitFile === undefined ? undefined : readFindings(explicitFile, properties);
  for (const implementation of implementations) {
    const file = explicitFile ?? implementationOf(implementation).knownFindings;
    if (file === undefined) continue;
    byImplementation.set(implementationLabel(implementation), { file, findings: explicit ?? readFindings(file, properties) });
  }
  return { byImplementation };
}

/** Each implementation's context, its version asked once. */
export async function knownContexts(files: KnownFiles, implementations: readonly ImplementationSpec[]): Promise<Map<string, KnownContext>> {
  const contexts = new Map<string, KnownContext>();
  for (const implementation of implementations) {
    const label = implementationLabel(implementation);
    const loaded = files.byImplementation.get(label);
    if (loaded === undefined || loaded.findings.length === 0) continue;
    contexts.set(label, { ...loaded, implementation: implementation.name, version: await implementationVersion(implementation) });
  }
  return contexts;
}

/**
 * The progress line for a context: how many of the file's findings are for
 * this implementation's version, and how many others of the implementation
 * will apply only where their reproducer still fails as they describe.
 */
export function describeKnownContext(context: KnownContext): string {
  const ours = context.findings.filter((finding) => finding.implementation === context.implementation);
  const matching = ours.filter((finding) => globMatches(finding.version, context.version)).length;
  // A version the file names is matched by version alone (src/known-findings.ts versionNamed).
  const byReproducer = matching ? 0 : ours.length;
  const tried = byReproducer ? `; the file names no finding for this version, so its ${byReproducer} ${context.implementation} finding(s) will be tried by their reproducer (each applies where it still fails as the finding describes)` : "";
  return `known findings: ${matching} of ${context.findings.length} in ${context.file} are for ${context.implementation} ${context.version}${tried}`;
}
