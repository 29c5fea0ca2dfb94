/**
 * The reference spawn called inside a Node process through koffi, behind
 * the protocol's `bench` lines: the in-process line of the memory benchmark.
 * The Node process is the parent, and the memory a line asks for is held in
 * its heap (impls/node/driver.ts, holdInHeap), as a runtime's would be.
 *
 *   node --expose-gc --import=tsx harness/targets/in-process-driver.ts LIBRARY --driver
 *
 * LIBRARY is the amd64 libvforkcheck.so. It answers `hello` from the
 * library; only `bench` lines are served (the gate's in-process target calls
 * the library from the harness's own process, under strace, instead).
 */
import { createInterface } from "node:readline";
import koffi from "koffi";
import { HeldHeap } from "../../impls/node/driver.ts";

const [libraryPath, mode] = process.argv.slice(2);
if (!libraryPath || mode !== "--driver") {
  process.stderr.write("usage: in-process-driver.ts LIBRARY --driver\n");
  process.exit(2);
}
const library = koffi.load(libraryPath);
const hello = library.func("long vfc_hello(_Out_ uint8_t *out, long capacity)") as (out: Buffer, capacity: number) => number;
const runCase = library.func("long vfc_run_case(const uint8_t *line, long length, _Out_ uint8_t *out, long capacity)") as (line: Buffer, length: number, out: Buffer, capacity: number) => number;

/** Calls the library; a negative length means `out` was too small: a bench answer is never rerun, so size it once from the line. */
function call(line: string): string {
  const bytes = Buffer.from(line, "latin1");
  const out = Buffer.alloc(1 << 20);
  const n = runCase(bytes, bytes.length, out, out.length);
  if (n < 0) return `error id=-1 reason=${Buffer.from("answer too long").toString("hex")}`;
  return out.subarray(0, n).toString("latin1").trimEnd();
}

const reply = (text: string) => process.stdout.write(`${text}\n`);
const refuse = (reason: string) => reply(`error id=-1 reason=${Buffer.from(reason).toString("hex")}`);

const helloBuffer = Buffer.alloc(1 << 16);
reply(helloBuffer.subarray(0, hello(helloBuffer, helloBuffer.length)).toString("latin1").trimEnd());

const heap = new HeldHeap();
createInterface({ input: process.stdin, crlfDelay: Infinity })
  .on("line", (line) => {
    if (line === "") return;
    if (!line.startsWith("bench ")) return refuse("only bench lines are served in-process here");
    const memory = /(?:^| )memory=(\d+)(?: |$)/.exec(line);
    const bytes = memory ? Number(memory[1]) : 0;
    try {
      heap.hold(bytes);
    } catch (error) {
      const id = /(?:^| )id=(\d+)/.exec(line)?.[1] ?? "-1";
      return reply(`timings id=${id} failure=x${Buffer.from(`memory: the Node heap cannot hold ${bytes} bytes: ${(error as Error).message}`).toString("hex")}`);
    }
    // The library leaves the memory to its host program (this heap).
    reply(call(line));
  })
  .on("close", () => process.exit(0));
