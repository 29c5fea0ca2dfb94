/** Argument vectors: argv[0] and up to a few arguments of any non-NUL bytes. */
import fc from "fast-check";

const argumentText = fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 32 });

/** The exec target reads argv[1] "--driver", "--probe" or "--exit" as a mode switch: never draw those alone. */
const modeSwitches = new Set(["--driver", "--probe", "--exit"]);
/** And these as a mode switch followed by arguments (native/driver.c): never draw them first. */
const modeSwitchesWithArguments = new Set(["--system-init", "--die-with-parent", "--reap-all"]);

export const argvArbitrary: fc.Arbitrary<string[]> = fc
  .tuple(fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 16 }), fc.array(argumentText, { maxLength: 6 }))
  .map(([first, rest]) => [first, ...rest])
  .filter((argv) => !(argv.length === 2 && modeSwitches.has(argv[1]!)) && !modeSwitchesWithArguments.has(argv[1] ?? ""));
