/**
 * bin/vforkcheck.js picks what it runs: the TypeScript sources through tsx
 * where they are beside it (a checkout, even one with a stale dist/), the
 * compiled dist/ where they are not (the package); and in both it passes a
 * signal on and dies of it.
 */
import test from "ava";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { projectRoot } from "../../harness/process/project-root.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";

/** A package layout whose entry points say which one ran, and then wait to be signalled. */
function fakePackage(t: Parameters<typeof scratchDirectory>[0], withSources: boolean): string {
  const root = scratchDirectory(t, "vforkcheck-bin-test-");
  mkdirSync(join(root, "bin"));
  copyFileSync(join(projectRoot, "bin", "vforkcheck.js"), join(root, "bin", "vforkcheck.js"));
  writeFileSync(join(root, "package.json"), `${JSON.stringify({ type: "module" })}\n`);
  // tsx, which the checkout's branch resolves from beside bin/.
  symlinkSync(join(projectRoot, "node_modules"), join(root, "node_modules"));
  const entryPoint = (kind: string) =>
    `process.stdout.write(\`${kind} \${process.pid} \${process.argv.slice(2).join(" ")}\\n\`);\nif (process.argv[2] === "wait") setInterval(() => {}, 1000);\n`;
  mkdirSync(join(root, "dist", "harness", "cli"), { recursive: true });
  writeFileSync(join(root, "dist", "harness", "cli", "vforkcheck.js"), entryPoint("compiled"));
  if (withSources) {
    mkdirSync(join(root, "harness", "cli"), { recursive: true });
    // Type annotations: only tsx can run this file.
    writeFileSync(join(root, "harness", "cli", "vforkcheck.ts"), `const kind: string = "sources";\n${entryPoint("${kind}")}`);
  }
  return root;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (const [withSources, expected] of [[true, "sources"], [false, "compiled"]] as const) {
  test(`${withSources ? "with" : "without"} harness/cli/vforkcheck.ts beside it, bin runs the ${expected} entry point with the arguments`, (t) => {
    const root = fakePackage(t, withSources);
    const run = spawnSync(process.execPath, [join(root, "bin", "vforkcheck.js"), "gate", "--tier", "host"], { encoding: "utf8", timeout: 60_000 });
    t.is(run.status, 0, run.stderr);
    t.regex(run.stdout, new RegExp(`^${expected} \\d+ gate --tier host\\n$`));
  });

  test(`${expected}: SIGTERM to bin alone reaches the command, and bin dies of it`, async (t) => {
    const root = fakePackage(t, withSources);
    const bin = spawn(process.execPath, [join(root, "bin", "vforkcheck.js"), "wait"], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => bin.on("exit", (_code, signal) => resolve(signal)));
    const line = await new Promise<string>((resolve) => createInterface({ input: bin.stdout }).once("line", resolve));
    const commandPid = Number(line.split(" ")[1]);
    t.teardown(() => {
      if (isRunning(commandPid)) process.kill(commandPid, "SIGKILL");
    });
    t.true(line.startsWith(`${expected} `), line);
    bin.kill("SIGTERM");
    t.is(await exited, "SIGTERM");
    // bin exits only once the command has: it is gone (reaped by whoever inherited it) within moments.
    for (let attempt = 0; attempt < 50 && isRunning(commandPid); attempt++) await new Promise((resolve) => setTimeout(resolve, 100));
    t.false(isRunning(commandPid), `the command (pid ${commandPid}) outlived bin`);
  });
}
