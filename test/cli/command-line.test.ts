// The command line's conventions: per-command --help made from the same table the parser reads,
// --version, --opt=value, the order of the implementation options, and a did-you-mean.
import test from "ava";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { commandSpecs } from "../../harness/cli/commands.ts";
import { gateOptions } from "../../harness/run/gate.ts";
import { parseOptions } from "../../harness/run/options.ts";
import { didYouMean, editDistance } from "../../src/did-you-mean.ts";
import { formatCommandHelp, optionHelpText, parseCommandLine, wrapWords } from "../../src/option-table.ts";

function vforkcheck(args: string[]) {
  return spawnSync(process.execPath, ["--import=tsx", "harness/cli/vforkcheck.ts", ...args], { encoding: "utf8", timeout: 60_000 });
}

const version = (JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version;

test("every command's --help prints each row of its table (name, default, example) within 100 columns, exit 0", (t) => {
  t.true(commandSpecs.length >= 10);
  for (const command of commandSpecs) {
    const run = vforkcheck([...command.name.split(" "), "--help"]);
    t.is(run.status, 0, `${command.name}: ${run.stderr}`);
    // The help wraps at spaces: compare with every run of white space as one.
    const text = run.stdout.replace(/\s+/g, " ");
    for (const option of command.options) {
      t.true(text.includes(optionHelpText(option)), `${command.name} --help lacks ${option.name}: ${optionHelpText(option)}`);
      t.true(text.includes(`Default: ${option.default}.`), `${command.name} ${option.name}`);
    }
    const wide = run.stdout.split("\n").filter((line) => line.length > 100);
    t.deepEqual(wide, [], command.name);
  }
});

test("npx vforkcheck gate --help: every gate option, with the gate's defaults; -h and help gate say the same", (t) => {
  const help = vforkcheck(["gate", "--help"]);
  for (const name of gateOptions) t.regex(help.stdout, new RegExp(`^  ${name}\\b`, "m"), name);
  t.regex(help.stdout.replace(/\s+/g, " "), /--runs N generated cases per property on each target\. Default: 50\./);
  t.is(vforkcheck(["gate", "-h"]).stdout, help.stdout);
  t.is(vforkcheck(["help", "gate"]).stdout, help.stdout);
  // mutants has its own defaults, from the same defaults its parse starts with.
  t.regex(vforkcheck(["mutants", "--help"]).stdout.replace(/\s+/g, " "), /--runs N .*Default: 100\..*--report FILE .*Default: reports\/mutants\.json\./);
});

test("--version and -V print package.json's version; --help lists every command", (t) => {
  for (const flag of ["--version", "-V"]) {
    const run = vforkcheck([flag]);
    t.is(run.status, 0);
    t.is(run.stdout, `${version}\n`);
  }
  const list = vforkcheck(["--help"]);
  t.is(list.status, 0);
  for (const command of commandSpecs) t.regex(list.stdout, new RegExp(`^  ${command.name} `, "m"));
});

test("a mistyped option or command: one line with the nearest name, exit 2", (t) => {
  for (const [args, line] of [
    [["gate", "--arhc", "amd64"], "vforkcheck: unknown option '--arhc' (did you mean --arch?) (usage: vforkcheck gate --help)"],
    [["gat"], "vforkcheck: unknown command 'gat' (did you mean gate?) (usage: vforkcheck --help)"],
    [["mutants", "--mutnat", "x"], "vforkcheck: unknown option '--mutnat' (did you mean --mutant?) (usage: vforkcheck mutants --help)"],
    [["bench", "memroy"], "vforkcheck: bench: unknown benchmark 'memroy' (known: memory) (did you mean memory?) (usage: vforkcheck bench --help)"],
    [["report", "merge", "a.json", "--outt", "b.json"], "vforkcheck: report merge: unknown option '--outt' (did you mean --out?) (usage: vforkcheck report merge --help)"],
    [["gate", "--strict-known=yes"], "vforkcheck: --strict-known takes no value (got 'yes') (usage: vforkcheck gate --help)"],
  ] as const) {
    const run = vforkcheck([...args]);
    t.is(run.status, 2, args.join(" "));
    t.is(run.stderr, `${line}\n`);
  }
});

test("--opt=value is --opt value; a negative seed either way; the implementations keep the order given", (t) => {
  const spaced = parseOptions(["--arch", "amd64,arm64", "--runs", "7", "--seed", "-5"], gateOptions);
  const joined = parseOptions(["--arch=amd64,arm64", "--runs=7", "--seed=-5"], gateOptions);
  t.deepEqual([joined.architectures.map((a) => a.name), joined.runs, joined.seed], [["amd64", "arm64"], 7, -5]);
  t.deepEqual([spaced.architectures, spaced.runs, spaced.seed], [joined.architectures, joined.runs, joined.seed]);
  const ordered = parseOptions(["--impl-cmd=python3 d.py", "--impl", "reference", "--impl-cmd", "./other"], gateOptions);
  t.deepEqual(ordered.implementations, [{ name: "cmd", command: "python3 d.py" }, { name: "reference" }, { name: "cmd", command: "./other" }]);
  t.throws(() => parseOptions(["--known", "--arch", "amd64"], gateOptions), { message: "--known needs a value" });
  t.throws(() => parseOptions(["--report", "-x"], gateOptions), { message: "--report: a value that starts with '-' is written --report=-x" });
});

test("every option of every run command's table is one its parse takes (the help cannot list one the parser refuses)", (t) => {
  // setup reads --system[=LIST] by hand (a value only after '='); its unknown-argument line is tested in cli-usage.
  for (const command of commandSpecs.filter((spec) => spec.name !== "setup")) {
    for (const option of command.options) {
      // Each table's example parses with that table.
      const args = option.example.match(/"[^"]*"|\S+/g)!.map((word) => word.replace(/^"|"$/g, ""));
      const parsed = parseCommandLine(command, [...args, ...(command.operands ? ["operand"] : [])]);
      t.is(parsed.options[0]?.name, option.name, `${command.name}: ${option.example}`);
    }
  }
});

test("the nearest name: a slip of at most two edits (a swap is one), not an unrelated word", (t) => {
  t.is(editDistance("--arhc", "--arch"), 1);
  t.is(editDistance("kitten", "sitting"), 3);
  t.is(didYouMean("--arhc", ["--arch", "--tier"]), " (did you mean --arch?)");
  t.is(didYouMean("--frobnicate", ["--arch", "--tier", "--runs"]), "");
  t.is(didYouMean("x", ["gate", "soak"]), "");
  t.is(didYouMean("launch", ["gate", "soak", "bench", "build"]), "");
});

test("the help wraps words, never past its width", (t) => {
  t.deepEqual(wrapWords("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
  const help = formatCommandHelp("x", { name: "c", summary: "s", options: [{ name: "--long-option-name-here", value: "VALUE", default: "d", description: "word ".repeat(40), example: "--long-option-name-here v" }] }, 60);
  t.true(help.split("\n").every((line) => line.length <= 60), help);
});
