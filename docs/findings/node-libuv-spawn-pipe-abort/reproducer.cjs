// libuv 1.53's posix_spawn path (Node 24): a 'pipe' at a stdio index above
// the number of the socketpair end libuv makes for it aborts the parent.
// libuv dup2()s that end up to a temporary number (stdio.length) in the
// child's file actions, writes that number back into the parent's own
// table, and after the spawn closes it in the parent, where it was never
// open: EBADF, and libuv calls abort().
//
//   node reproducer.cjs
//
// The spawn runs in a second Node process (this file with --spawn), so that
// its abort can be told. Exit status 1: that process was killed by SIGABRT
// (the bug); 0: its spawn returned and the child exited; 2: anything else.
// Where libuv forks (Node 18 and 20; Node 24 under qemu-user), it exits 0.
"use strict";
const { spawn, spawnSync } = require("node:child_process");

if (process.argv[2] === "--spawn") {
  const index = 63; // far above any descriptor a fresh Node holds
  const stdio = new Array(index + 1).fill("ignore");
  stdio[index] = "pipe";
  const child = spawn("/bin/true", [], { stdio });
  child.on("error", (error) => {
    console.log(`spawn failed: ${error.code}`);
    process.exitCode = 2;
  });
  child.on("exit", (code) => console.log(`the child exited ${code}; the parent was not aborted`));
} else {
  console.log(`node ${process.version}, libuv ${process.versions.uv}: spawning /bin/true with a 'pipe' at stdio[63], in a process of its own`);
  const run = spawnSync(process.execPath, [__filename, "--spawn"], { stdio: "inherit" });
  if (run.signal === "SIGABRT") console.log("that process was killed by SIGABRT: libuv aborted after the spawn");
  process.exitCode = run.signal === "SIGABRT" ? 1 : run.status === 0 ? 0 : 2;
}
