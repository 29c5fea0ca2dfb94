/** The amd64 spawn inside this Node process, through koffi; observed by strace attached to our threads. */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { holdInHeap } from "../../impls/node/driver.ts";
import { CaseTimes } from "../../src/case-deadline.ts";
import { errnoName } from "../../src/errno.ts";
import type { OracleContext } from "../../src/oracle.ts";
import { ObserverLog } from "../../src/observer.ts";
import { encodeCase, parseHello, parseResult, type Capabilities, type Hello } from "../../src/protocol.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";
import type { Fixtures } from "../build/fixtures.ts";
import { descendantsOf, killProcessTree } from "../process/process-tree.ts";
import { straceTraceSet } from "./driver-target.ts";
import { LineChannel } from "./line-channel.ts";
import { caseDeadlineMs, nextCaseId, oracleContext, targetName, type CaseRun, type Target, type TargetSpec } from "./target.ts";

export class InProcessTarget implements Target {
  readonly name: string;
  readonly caseDeadlineMs: number;
  readonly caseTimes = new CaseTimes();
  hello!: Hello;
  oracle!: OracleContext;
  private runCaseFunction!: { async: (...args: unknown[]) => void };
  private lseek!: (fd: number, offset: number, whence: number) => number;
  private strace: ChildProcessWithoutNullStreams | undefined;
  private observer = new ObserverLog();
  readonly maxMemoryBytes: number;

  constructor(
    readonly spec: TargetSpec,
    readonly capabilities: Capabilities,
    readonly fixtures: Fixtures,
    private readonly library: string,
    maxMemoryBytes: number,
  ) {
    this.name = targetName(spec);
    this.maxMemoryBytes = maxMemoryBytes;
    this.caseDeadlineMs = caseDeadlineMs(spec);
  }

  errnoName(value: number): string {
    return errnoName(this.spec.architecture, value);
  }

  async start(): Promise<void> {
    const koffi = (await import("koffi")).default;
    const library = koffi.load(this.library);
    this.runCaseFunction = library.func("long vfc_run_case(const uint8_t *line, long length, _Out_ uint8_t *out, long capacity)") as never;
    const hello = library.func("long vfc_hello(_Out_ uint8_t *out, long capacity)") as (out: Buffer, capacity: number) => number;
    this.lseek = koffi.load("libc.so.6").func("long lseek(int fd, long offset, int whence)") as never;
    const buffer = Buffer.alloc(1 << 16);
    const length = hello(buffer, buffer.length);
    this.hello = parseHello(buffer.subarray(0, length).toString("latin1").trimEnd());
    this.oracle = oracleContext(this.spec, this.capabilities, this.hello, this.fixtures);
    await this.callRunCase("case id=0 path=x"); // starts libuv's pool threads before strace attaches
    await this.attachObserver();
  }

  private callRunCase(line: string, capacity = 1 << 16): Promise<string> {
    const out = Buffer.alloc(capacity);
    // A Buffer, not a JS string: koffi would convert a string and copy it.
    const bytes = Buffer.from(line, "latin1");
    return new Promise((resolve, reject) => {
      this.runCaseFunction.async(bytes, bytes.length, out, capacity, (error: Error | null, n: number) => {
        if (error) reject(error);
        else if (n < 0) this.callRunCase(line, -n + 1).then(resolve, reject);
        else resolve(out.subarray(0, n).toString("latin1").trimEnd());
      });
    });
  }

  /** strace on every thread of this process; ready once it shows our marker. */
  private async attachObserver(): Promise<void> {
    const threads = readdirSync(`/proc/${process.pid}/task`);
    const args = ["-qq", "-f", "-e", straceTraceSet, "-e", "signal=none", ...threads.flatMap((tid) => ["-p", tid])];
    this.strace = spawn("strace", args, { stdio: ["pipe", "pipe", "pipe"] });
    this.strace.on("error", () => {});
    new LineChannel(this.strace.stderr, (line) => this.observer.addLine(line));
    for (let attempt = 0; attempt < 100; attempt++) {
      this.lseek(-1, 0, 0);
      this.lseek(-1, 0, 2);
      if (await this.observer.take(0, 100)) return;
    }
    throw new Error("strace did not attach to this Node process");
  }

  async runCase(spawnCase: SpawnCase, deadline = this.caseDeadlineMs): Promise<CaseRun> {
    const id = nextCaseId();
    // The Node heap holds the case's memory, touched, while the child is spawned.
    let heap: Buffer[] | undefined = spawnCase.memoryBytes ? holdInHeap(spawnCase.memoryBytes) : undefined;
    const line = encodeCase(id, spawnCase, this.fixtures, 0);
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), deadline)));
    const answer = await Promise.race([this.callRunCase(line), hung]);
    clearTimeout(timer);
    const elapsedMs = Date.now() - started;
    if (answer === "hung") {
      // Kill what we spawned (not strace); the blocked pool thread then returns.
      for (const pid of this.strayChildren()) killProcessTree(pid);
      heap = undefined;
      return { id, line, failure: `no answer within ${deadline / 1000} s${deadline < this.caseDeadlineMs ? " (the shrink deadline)" : ""}: the spawn hung (child killed)` };
    }
    heap = undefined;
    void heap;
    const result = parseResult(answer);
    const observed = await this.observer.take(id, 5000);
    // Nobody else reaps in here: a spawned child still present as a zombie is one.
    for (const clone of observed?.clones ?? []) {
      if (clone.result > 0 && isZombieChildOfUs(clone.result)) result.zombies++;
    }
    return { id, line, result, observed, elapsedMs };
  }

  private strayChildren(): number[] {
    return descendantsOf(process.pid).filter((pid) => pid !== this.strace?.pid && !descendantsOf(this.strace?.pid ?? -1).includes(pid));
  }

  async close(): Promise<void> {
    if (this.strace?.pid) killProcessTree(this.strace.pid);
    this.fixtures.remove();
  }
}

function isZombieChildOfUs(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] === "Z" && Number(fields[1]) === process.pid;
  } catch {
    return false;
  }
}
