// libuv's fork path runs the child with glibc's execvp, which hands a file
// the kernel refuses with ENOEXEC to /bin/sh: spawning a file that is not
// an executable format "succeeds", and the shell runs its bytes as a
// script. execve, posix_spawn and libuv 1.53's own posix_spawn path say
// ENOEXEC. So one Node 24 answers ENOEXEC on one machine and runs /bin/sh
// on another (qemu-user, where libuv's vfork probe fails and it forks).
//
//   node reproducer.cjs
//
// Exit status 1: the spawn succeeded (the bug); 0: it failed with ENOEXEC.
"use strict";
const { spawn } = require("node:child_process");
const { chmodSync, mkdtempSync, rmSync, writeFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

const directory = mkdtempSync(join(tmpdir(), "enoexec-"));
const file = join(directory, "not-a-program");
writeFileSync(file, Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x0a])); // no ELF header, no #! line
chmodSync(file, 0o755);
console.log(`node ${process.version}, libuv ${process.versions.uv}: spawning a file that is not an executable format`);
// Node throws some spawn errors at once and emits others as 'error'.
const failed = (error) => {
  rmSync(directory, { recursive: true, force: true });
  console.log(`spawn failed: ${error.code}`);
  process.exitCode = error.code === "ENOEXEC" ? 0 : 2;
};
let child;
try {
  child = spawn(file, [], { stdio: "ignore" });
} catch (error) {
  failed(error);
}
child?.on("error", failed);
child?.on("exit", (code, signal) => {
  rmSync(directory, { recursive: true, force: true });
  console.log(`spawn succeeded: the child exited ${signal ?? code} (the file ran through /bin/sh), where execve says ENOEXEC`);
  process.exitCode = 1;
});
