/**
 * `vforkcheck findings REPORT [--out FILE]`: docs/findings.md from one gate
 * report and the findings catalogue (docs/findings/<id>/finding.json, each
 * beside its reproducer). Everything is read and checked before the page is
 * written: a missing or foreign report, a bad catalogue entry or an
 * unwritable --out is one line and exit 2 (a UsageError).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { CatalogueError, checkCatalogue, parseCatalogueFinding, type CatalogueFinding } from "../../src/findings-catalogue.ts";
import { findingsPage, uncataloguedFindings } from "../../src/findings-page.ts";
import { GateReportError, parseGateReport, type GateReport } from "../../src/gate-report.ts";
import { UsageError } from "../../src/usage-error.ts";
import { lastValues, parseCommandLine, type CommandSpec } from "../../src/option-table.ts";
import { implementationNames, implementationOf } from "../implementations/index.ts";
import { projectRoot } from "../process/project-root.ts";
import { prepareReportFile, writeReportFile } from "./report-output.ts";

export const catalogueDirectory = join(projectRoot, "docs", "findings");

interface FindingsOptions {
  report: string;
  out: string;
}

/** `vforkcheck findings`'s options: its parse, help and docs. */
export const findingsCommandSpec: CommandSpec = {
  name: "findings",
  summary: "docs/findings.md from one gate report and the findings catalogue (docs/findings/ID/finding.json)",
  operands: "REPORT",
  options: [{ name: "--out", value: "FILE", default: "docs/findings.md", description: "where the page goes", example: "--out /dev/stdout" }],
};

function parseFindingsOptions(args: readonly string[]): FindingsOptions {
  let parsed;
  try {
    parsed = parseCommandLine(findingsCommandSpec, args);
  } catch (error) {
    throw new UsageError(`findings: ${(error as Error).message}`);
  }
  const [report, second] = parsed.operands;
  if (report === undefined) throw new UsageError("findings: which report? (vforkcheck findings REPORT [--out FILE])");
  if (second !== undefined) throw new UsageError(`findings: one report only ('${report}', then '${second}')`);
  return { report, out: lastValues(parsed.options).get("--out") ?? join(projectRoot, "docs", "findings.md") };
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`findings: cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The ids of an implementation's known-findings file, to check the catalogue's claims against. */
function knownFindingIds(runtime: string): string[] {
  const file = implementationOf({ name: runtime }).knownFindings;
  if (file === undefined || !existsSync(file)) return [];
  const entries = JSON.parse(readText(file, "known findings")) as { id?: unknown }[];
  return entries.map((entry) => String(entry.id));
}

/** Every finding.json under the directory, each checked, and the whole. */
export function readCatalogue(directory: string): CatalogueFinding[] {
  const where = relative(projectRoot, directory) || directory;
  const findings = readdirSync(directory, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const file = join(directory, name, "finding.json");
      const shown = join(where, name, "finding.json");
      if (!existsSync(file)) throw new CatalogueError(`${join(where, name)}: no finding.json (each directory under ${where} is one finding)`);
      const finding = parseCatalogueFinding(readText(file, "catalogue entry"), shown, name);
      if (!implementationNames.includes(finding.runtime)) throw new CatalogueError(`${shown}: 'runtime': unknown '${finding.runtime}' (known: ${implementationNames.join(",")})`);
      if (!existsSync(join(directory, name, finding.reproducer.program))) throw new CatalogueError(`${shown}: 'reproducer.program': no ${finding.reproducer.program} in ${join(where, name)}`);
      const known = knownFindingIds(finding.runtime);
      const stray = finding.knownFindings.find((id) => !known.includes(id));
      if (stray !== undefined) throw new CatalogueError(`${shown}: 'knownFindings': '${stray}' is in no entry of the ${finding.runtime} known-findings file`);
      return finding;
    });
  checkCatalogue(findings, where);
  return findings;
}

export function findingsCommand(args: readonly string[], directory = catalogueDirectory): number {
  const options = parseFindingsOptions(args);
  // The catalogue ships in docs/findings/, in a checkout and in the npm package alike.
  if (!existsSync(directory)) throw new Error(`findings: no findings catalogue at ${directory}`);
  let report: GateReport;
  let catalogue: CatalogueFinding[];
  try {
    report = parseGateReport(readText(options.report, "report"), options.report);
    catalogue = readCatalogue(directory);
  } catch (error) {
    if (error instanceof GateReportError || error instanceof CatalogueError) throw new UsageError(`findings: ${error.message}`);
    throw error;
  }
  const unwritable = prepareReportFile(options.out, "--out");
  if (unwritable) throw new UsageError(`findings: ${unwritable}`);
  writeReportFile(options.out, findingsPage(report, catalogue, options.report));
  for (const id of uncataloguedFindings(report, catalogue))
    process.stderr.write(`vforkcheck findings: known finding '${id}' has no catalogue entry (docs/findings/<id>/finding.json listing it in knownFindings): its section says so\n`);
  process.stdout.write(`findings: ${options.out} (${report.results.length} results, ${catalogue.length} catalogued findings)\n`);
  return 0;
}
