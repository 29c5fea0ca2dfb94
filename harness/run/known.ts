/**
 * `vforkcheck known suggest REPORT [--target T] [--property P]`: prints, as
 * a JSON list on stdout, a known-findings entry for each failure of a gate
 * report (src/known-suggest.ts), ready for `--known FILE` once a person has
 * written its root cause and source. Bad input is one line and exit 2.
 */
import { readFileSync } from "node:fs";
import { loadProperties } from "../../properties/index.ts";
import { GateReportError } from "../../src/gate-report.ts";
import { KnownFindingsError } from "../../src/known-findings.ts";
import { suggestKnownFindings } from "../../src/known-suggest.ts";
import { UsageError } from "../../src/usage-error.ts";
import { lastValues, parseCommandLine, type CommandSpec } from "../../src/option-table.ts";
import { everyImplementationName } from "../implementations/index.ts";

/** `vforkcheck known suggest`'s options: its parse, help and docs. */
export const knownSuggestCommandSpec: CommandSpec = {
  name: "known suggest",
  summary: "a known-findings entry for each failure of a gate report, as a JSON list that --known FILE accepts once its rootCause and source are written",
  operands: "REPORT",
  options: [
    { name: "--target", value: "TARGET", default: "every target", description: "only the failures on this target (as the report names it, or ARCH/TIER)", example: "--target amd64/host" },
    { name: "--property", value: "PROPERTY", default: "every property", description: "only the failures of this property", example: "--property errno-propagates" },
  ],
};

function parseSuggestOptions(args: readonly string[]): { report: string; target?: string; property?: string } {
  let parsed;
  try {
    parsed = parseCommandLine(knownSuggestCommandSpec, args);
  } catch (error) {
    throw new UsageError(`known suggest: ${(error as Error).message}`);
  }
  const [report, second] = parsed.operands;
  if (report === undefined) throw new UsageError("known suggest: which report? (vforkcheck known suggest REPORT [--target T] [--property P])");
  if (second !== undefined) throw new UsageError(`known suggest: one report only ('${report}', then '${second}')`);
  const values = lastValues(parsed.options);
  const target = values.get("--target");
  const property = values.get("--property");
  return { report, ...(target === undefined ? {} : { target }), ...(property === undefined ? {} : { property }) };
}

/** `vforkcheck known suggest ...` (the dispatch has checked the subcommand). */
export async function knownSuggestCommand(args: readonly string[]): Promise<number> {
  const options = parseSuggestOptions(args);
  let text: string;
  try {
    text = readFileSync(options.report, "utf8");
  } catch (error) {
    throw new UsageError(`known suggest: cannot read report ${options.report}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const properties = (await loadProperties()).map((property) => property.name);
  let suggestion;
  try {
    suggestion = suggestKnownFindings(text, options.report, options, { implementations: everyImplementationName, properties });
  } catch (error) {
    if (error instanceof GateReportError || error instanceof KnownFindingsError) throw new UsageError(`known suggest: ${error.message}`);
    throw error;
  }
  for (const note of suggestion.passedOver) process.stderr.write(`vforkcheck known suggest: passed over ${note}\n`);
  const count = suggestion.entries.length;
  process.stderr.write(
    count
      ? `vforkcheck known suggest: ${count} ${count === 1 ? "entry" : "entries"} from ${options.report}; replace each one's rootCause and source (they say TODO) before you commit the file\n`
      : `vforkcheck known suggest: ${options.report} has no failure${options.target || options.property ? " there" : ""} to suggest an entry for\n`,
  );
  process.stdout.write(`${JSON.stringify(suggestion.entries, null, 2)}\n`);
  return 0;
}
