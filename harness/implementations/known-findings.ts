/**
 * Reads the known-findings file each implementation of a run uses (--known
 * FILE, else the implementation's own, else none) and the version its
 * patterns are matched against. Files are read and validated first, before
 * any tool is installed or built; versions afterwards (Go's needs go).
 */
import { readFileSync } from "node:fs";
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

function readFindings(file: string, properties: readonly string[]): KnownFinding[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new KnownFindingsError(`--known: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseKnownFindings(text, file, { implementations: everyImplementationName, properties });
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
