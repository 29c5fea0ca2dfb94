/**
 * The findings catalogue: one docs/findings/<id>/finding.json per bug the
 * gate found in a real runtime, beside that bug's reproducer. It says what
 * the gate's known-findings files cannot: the root cause per release line
 * (file and function), whether the bug is known upstream and how that was
 * checked, and what the reproducer showed with each toolchain it ran with.
 * Pure: parsing and validation; reading the directory is the harness's.
 */
import { globMatches } from "./known-findings.ts";
import { JsonFieldReader, type Json } from "./json-fields.ts";

export interface RootCause {
  /** A glob over the implementation's version, as the gate reports it ("go1.19*"). */
  versions: string;
  /** The release whose source was read ("go1.19.8 (Debian golang-1.19-src 1.19.8-2)"). */
  release: string;
  file: string;
  function: string;
  /** Lines and what they do. */
  where: string;
}

export const upstreamStatuses = ["not checked", "no report found", "reported", "fixed"] as const;
export type UpstreamStatus = (typeof upstreamStatuses)[number];

export interface Upstream {
  status: UpstreamStatus;
  /** How, where and when it was checked (or why it could not be). */
  checked: string;
  /** Issue or commit links; at least one when reported or fixed. */
  references: string[];
}

export interface ReproducerRun {
  toolchain: string;
  version: string;
  /** "<arch>/<tier>" it ran on. */
  target: string;
  /** The program's exit status: 1 the bug is present, 0 absent, anything else nothing shown. */
  exit: number;
  output: string;
}

export interface Reproducer {
  /** The program's file, inside the finding's directory. */
  program: string;
  command: string;
  exitStatus: string;
  measured: ReproducerRun[];
}

export interface CatalogueFinding {
  /** The directory's name under docs/findings/. */
  id: string;
  title: string;
  /** The implementation's name, as the gate report's implementations give it ("go"). */
  runtime: string;
  /** The ids of the known-findings entries (impls/<runtime>/known-findings.json) that are this bug. */
  knownFindings: string[];
  summary: string;
  rootCauses: RootCause[];
  upstream: Upstream;
  reproducer: Reproducer;
}

export class CatalogueError extends Error {}


/** Every field of a catalogue object is required. */
class Reader extends JsonFieldReader {
  constructor(where: string) {
    super(where, (message) => new CatalogueError(message));
  }

  override object(value: Json | undefined, what: string, fields: readonly string[]): Record<string, Json> {
    return super.object(value, what, fields, true);
  }
}

function readRootCause(reader: Reader, value: Json, index: number): RootCause {
  const what = `rootCauses[${index}]`;
  const entry = reader.object(value, what, ["versions", "release", "file", "function", "where"]);
  return {
    versions: reader.text(entry.versions, `${what}.versions`),
    release: reader.text(entry.release, `${what}.release`),
    file: reader.text(entry.file, `${what}.file`),
    function: reader.text(entry.function, `${what}.function`),
    where: reader.text(entry.where, `${what}.where`),
  };
}

function readUpstream(reader: Reader, value: Json | undefined): Upstream {
  const entry = reader.object(value, "'upstream'", ["status", "checked", "references"]);
  const status = reader.text(entry.status, "upstream.status");
  if (!(upstreamStatuses as readonly string[]).includes(status)) reader.fail(`'upstream.status': unknown '${status}' (known: ${upstreamStatuses.join(", ")})`);
  const references = reader.list(entry.references, "upstream.references", false).map((reference) => reader.text(reference, "upstream.references"));
  if ((status === "reported" || status === "fixed") && references.length === 0) reader.fail(`'upstream.status' "${status}" needs a link in 'upstream.references'`);
  return { status: status as UpstreamStatus, checked: reader.text(entry.checked, "upstream.checked"), references };
}

function readRun(reader: Reader, value: Json, index: number): ReproducerRun {
  const what = `reproducer.measured[${index}]`;
  const entry = reader.object(value, what, ["toolchain", "version", "target", "exit", "output"]);
  if (typeof entry.exit !== "number" || !Number.isInteger(entry.exit) || entry.exit < 0 || entry.exit > 255) reader.fail(`'${what}.exit' must be an exit status (0-255)`);
  const target = reader.text(entry.target, `${what}.target`);
  if (!/^[a-z0-9]+\/[a-z]+$/.test(target)) reader.fail(`'${what}.target': '${target}' is not <arch>/<tier>`);
  return { toolchain: reader.text(entry.toolchain, `${what}.toolchain`), version: reader.text(entry.version, `${what}.version`), target, exit: entry.exit, output: reader.text(entry.output, `${what}.output`) };
}

function readReproducer(reader: Reader, value: Json | undefined): Reproducer {
  const entry = reader.object(value, "'reproducer'", ["program", "command", "exitStatus", "measured"]);
  const program = reader.text(entry.program, "reproducer.program");
  if (program.includes("/") || program.startsWith(".")) reader.fail(`'reproducer.program': '${program}' must be a file name in the finding's directory`);
  return {
    program,
    command: reader.text(entry.command, "reproducer.command"),
    exitStatus: reader.text(entry.exitStatus, "reproducer.exitStatus"),
    measured: reader.list(entry.measured, "reproducer.measured", true).map((run, index) => readRun(reader, run, index)),
  };
}

const findingFields = ["id", "title", "runtime", "knownFindings", "summary", "rootCauses", "upstream", "reproducer"] as const;

/**
 * One finding.json's text. `directory` is the name of the directory it is
 * in (its id must be that name); `file` names it in the errors. Throws a
 * one-line CatalogueError naming the file at the first fault.
 */
export function parseCatalogueFinding(text: string, file: string, directory: string): CatalogueFinding {
  const reader = new Reader(file);
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (error) {
    throw new CatalogueError(`${file}: not JSON (${(error as Error).message.split("\n")[0]})`);
  }
  const entry = reader.object(json, "the finding", findingFields);
  const id = reader.text(entry.id, "id");
  if (id !== directory) reader.fail(`'id' is '${id}', but the directory is '${directory}'`);
  const knownFindings = reader.list(entry.knownFindings, "knownFindings", false).map((known) => reader.text(known, "knownFindings"));
  return {
    id,
    title: reader.text(entry.title, "title"),
    runtime: reader.text(entry.runtime, "runtime"),
    knownFindings,
    summary: reader.text(entry.summary, "summary"),
    rootCauses: reader.list(entry.rootCauses, "rootCauses", true).map((cause, index) => readRootCause(reader, cause, index)),
    upstream: readUpstream(reader, entry.upstream),
    reproducer: readReproducer(reader, entry.reproducer),
  };
}

/** The whole catalogue: no known-findings id claimed by two findings. */
export function checkCatalogue(findings: readonly CatalogueFinding[], where: string): void {
  const claimed = new Map<string, string>();
  for (const finding of findings)
    for (const known of finding.knownFindings) {
      const other = claimed.get(known);
      if (other !== undefined) throw new CatalogueError(`${where}: known finding '${known}' is claimed by both '${other}' and '${finding.id}'`);
      claimed.set(known, finding.id);
    }
}

/** The catalogue finding a known-findings id belongs to, if any. */
export function catalogueFindingFor(findings: readonly CatalogueFinding[], knownFinding: string): CatalogueFinding | undefined {
  return findings.find((finding) => finding.knownFindings.includes(knownFinding));
}

/** The root cause read in the source of the release line this version is in, if one was. */
export function rootCauseFor(finding: CatalogueFinding, version: string): RootCause | undefined {
  return finding.rootCauses.find((cause) => globMatches(cause.versions, version));
}

/** What a reproducer's exit status says: 1 the bug is present, 0 absent, anything else nothing shown. */
export function reproducerVerdict(exit: number): "present" | "absent" | "not shown" {
  return exit === 1 ? "present" : exit === 0 ? "absent" : "not shown";
}
