/**
 * A command's options as one table (name, value placeholder, default,
 * description, example), and what is made from it: the parse of its command
 * line, its --help text and its section of docs/command-line.md. One table,
 * so the help and the docs cannot say other than the parser does. Pure.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { didYouMean } from "./did-you-mean.ts";
import { UsageError } from "./usage-error.ts";

export interface OptionSpec {
  /** "--arch" */
  name: string;
  /** The value's placeholder ("LIST", "FILE"); absent: a switch, which takes none. */
  value?: string;
  /** What applies when the option is not given, as a reader says it. */
  default: string;
  /** One line: what the option does. */
  description: string;
  /** The option as one would type it ("--arch amd64,arm64"). */
  example: string;
}

export interface CommandSpec {
  /** "gate", "bench memory". */
  name: string;
  /** One line: what the command does. */
  summary: string;
  /** The operands' placeholder ("REPORT", "A.json B.json ..."); absent: the command takes none. */
  operands?: string;
  options: readonly OptionSpec[];
}

/** One option as given, in command-line order: the value is undefined for a switch. */
export interface GivenOption {
  name: string;
  value: string | undefined;
}

export interface ParsedCommandLine {
  options: GivenOption[];
  operands: string[];
}

/** What every command takes besides its table: the help. */
export const helpOption: OptionSpec = { name: "--help", value: undefined, default: "", description: "print this help and exit (also -h)", example: "--help" };

/** Whether the arguments ask for help (-h or --help before any `--`): help wins over any other mistake in them. */
export function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).some((arg) => arg === "--help" || arg === "-h");
}

const negativeNumber = /^-\d/;

type ParseConfig = { args: string[]; options: NonNullable<ParseArgsConfig["options"]>; allowPositionals: boolean; tokens: true };

/**
 * The command line as the table reads it, options in the order given (the
 * order of --impl, --impl-cmd and --impl-binary is the order of the targets).
 * Node's own util.parseArgs (strict, with tokens for that order) does the
 * splitting, so `--opt=value` and `--opt value` are the same: no dependency
 * for what the runtime already has. A value that starts with '-' is taken
 * when it is a negative number (`--seed -5`, as a replay line may print it);
 * any other is written `--opt=-value`. Every fault is one UsageError line.
 */
export function parseCommandLine(command: CommandSpec, args: readonly string[]): ParsedCommandLine {
  const valueTaking = new Set(command.options.filter((option) => option.value !== undefined).map((option) => option.name));
  // `--seed -5` as `--seed=-5`: parseArgs would call the bare form ambiguous.
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if (valueTaking.has(arg) && next !== undefined && negativeNumber.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  const config: ParseConfig = {
    args: joined,
    options: Object.fromEntries(command.options.map((option) => [option.name.slice(2), { type: option.value === undefined ? "boolean" : "string", multiple: true }])),
    allowPositionals: command.operands !== undefined,
    tokens: true,
  };
  let tokens;
  try {
    tokens = parseArgs({ ...config, strict: true }).tokens;
  } catch (error) {
    throw new UsageError(faultOf(command, config) ?? (error as Error).message.split("\n")[0]!);
  }
  return {
    options: tokens.flatMap((token) => (token.kind === "option" ? [{ name: `--${token.name}`, value: token.value }] : [])),
    operands: tokens.flatMap((token) => (token.kind === "positional" ? [token.value] : [])),
  };
}

/** The first fault of a command line the strict parse refused, said as this tool says it (the lenient parse's tokens show where). */
function faultOf(command: CommandSpec, config: ParseConfig): string | undefined {
  const names = command.options.map((option) => option.name);
  for (const token of parseArgs({ ...config, strict: false, allowPositionals: true }).tokens) {
    if (token.kind === "positional" && command.operands === undefined) return `unexpected argument '${token.value}'${didYouMean(`--${token.value}`, names)}`;
    if (token.kind !== "option") continue;
    const option = command.options.find((o) => o.name === `--${token.name}`);
    if (option === undefined) return `unknown option '${token.rawName}'${didYouMean(token.rawName, names)}`;
    if (option.value === undefined && token.value !== undefined) return `${option.name} takes no value (got '${token.value}')`;
    if (option.value !== undefined && token.value === undefined) return `${option.name} needs a value`;
    if (option.value !== undefined && !token.inlineValue && token.value!.startsWith("-"))
      return token.value!.startsWith("--") || names.includes(token.value!) ? `${option.name} needs a value` : `${option.name}: a value that starts with '-' is written ${option.name}=${token.value}`;
  }
  return undefined;
}

/** Each option's last value, for a command whose options are given once. */
export function lastValues(given: readonly GivenOption[]): Map<string, string | undefined> {
  return new Map(given.map((option) => [option.name, option.value]));
}

/** The option as the usage line and help name it: "--arch LIST", "--strict-known". */
export function optionSynopsis(option: OptionSpec): string {
  return option.value === undefined ? option.name : `${option.name} ${option.value}`;
}

/** Words of text as lines of at most width characters (a word longer than that stays whole, on its own line). */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/[ \t\n]+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

/** What an option's help entry says after its name: the description, then its default and an example. */
export function optionHelpText(option: OptionSpec): string {
  const defaultText = option === helpOption ? "" : ` Default: ${option.default}.`;
  return `${option.description.replace(/\.$/, "")}.${defaultText} Example: ${option.example}`;
}

/**
 * `vforkcheck COMMAND --help`: the usage line, what the command does, and a
 * line (wrapped to width) for each option with its default and an example.
 */
export function formatCommandHelp(program: string, command: CommandSpec, width = 100): string {
  const options = [...command.options, helpOption];
  const column = Math.min(30, Math.max(...options.map((option) => optionSynopsis(option).length)) + 4);
  const lines = [
    ...wrapWords(`usage: ${program} ${command.name}${command.operands ? ` ${command.operands}` : ""}${command.options.length ? " [OPTION...]" : ""}`, width),
    "",
    ...wrapWords(command.summary, width),
    "",
    "options:",
  ];
  for (const option of options) {
    const name = `  ${optionSynopsis(option)}`;
    const text = wrapWords(optionHelpText(option), width - column);
    const first = name.length + 2 <= column ? `${name.padEnd(column)}${text.shift() ?? ""}` : name;
    lines.push(first, ...text.map((line) => `${" ".repeat(column)}${line}`));
  }
  return lines.join("\n");
}

/** `vforkcheck --help`: each command and what it does, then where each one's options are. */
export function formatCommandList(program: string, commands: readonly CommandSpec[], width = 100): string {
  const column = Math.max(...commands.map((command) => command.name.length)) + 4;
  const lines = [`usage: ${program} COMMAND [OPTION...]`, "", "commands:"];
  for (const command of commands) {
    const text = wrapWords(command.summary, width - column);
    lines.push(`  ${command.name.padEnd(column - 2)}${text.shift() ?? ""}`, ...text.map((line) => `${" ".repeat(column)}${line}`));
  }
  lines.push("", ...wrapWords(`${program} COMMAND --help (or ${program} help COMMAND) lists the command's options, each with its default and an example; ${program} --version prints the version.`, width));
  return lines.join("\n");
}

/** A Markdown table cell: pipes escaped, code kept as code. */
const cell = (text: string) => text.replace(/\|/g, "\\|");

/** The command's section of docs/command-line.md: its usage and a table of its options (the docs test checks it against the table). */
export function commandMarkdown(program: string, command: CommandSpec): string {
  const rows = command.options.map((option) => `| \`${cell(optionSynopsis(option))}\` | ${cell(option.description)} | ${cell(option.default)} | \`${cell(option.example)}\` |`);
  return [
    `### ${program} ${command.name}`,
    "",
    command.summary,
    "",
    "```",
    `${program} ${command.name}${command.operands ? ` ${command.operands}` : ""}${command.options.length ? " [OPTION...]" : ""}`,
    "```",
    "",
    ...(rows.length ? ["| option | what it does | default | example |", "|---|---|---|---|", ...rows] : ["No options."]),
  ].join("\n");
}
