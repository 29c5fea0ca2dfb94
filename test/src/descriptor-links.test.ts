// The exec target's fd_links: parsed strictly, used to name each descriptor
// a child should not have, and what Go's id-map file leak finding matches:
// a child holding another spawn's /proc/<pid>/uid_map, gid_map or
// setgroups, and nothing else.
import test from "ava";
import { readFileSync } from "node:fs";
import { checkOutcome } from "../../src/checks.ts";
import { checkConcurrentSpawns } from "../../src/concurrent-checks.ts";
import { parseKnownFindings } from "../../src/known-findings.ts";
import { parseChildReport, parseResult, ProtocolError } from "../../src/protocol.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";
import { amd64HostView, plainCase } from "../helpers/target-view.ts";

const hex = (text: string) => `x${Buffer.from(text).toString("hex")}`;
const reportLine = (pid: number, fds: string, links?: string[]) =>
  `child argv=${hex("child")} env= cwd=${Buffer.from("/f").toString("hex")} uid=0 gid=0 euid=0 egid=0 pid=${pid} ppid=100 pgid=100 sid=7 fds=${fds}${links ? ` fd_links=${links.map(hex).join(",")}` : ""} sigmask= sigignore= sighandle=`;
const spawnedResult = (report: string) => `result id=1 outcome=spawned pid=201 waited=1 status=exited:0 suspended=yes report=${hex(report)} zombies=0 live_children=0 leaked_fds=0 stack_canaries=ok register_canaries=ok`;

test("fd_links gives each descriptor above 2 its link, in fds' order; absent, nothing", (t) => {
  t.deepEqual(parseChildReport(reportLine(201, "0,1,2,9,63", ["/proc/4321/uid_map", "pipe:[81]"])).descriptorLinks, { 9: "/proc/4321/uid_map", 63: "pipe:[81]" });
  t.is(parseChildReport(reportLine(201, "0,1,2,63")).descriptorLinks, undefined);
  t.deepEqual(parseChildReport(reportLine(201, "0,1,2", [])).descriptorLinks, {});
});

test("fd_links with a count other than the descriptors above 2, or not a list, is malformed", (t) => {
  const short = t.throws(() => parseChildReport(reportLine(201, "0,1,2,9,63", ["pipe:[81]"])), { instanceOf: ProtocolError });
  t.regex(short.message, /^1 items in 'fd_links' for 2 descriptors above 2 in 'fds' in "child /);
  t.throws(() => parseChildReport(reportLine(201, "0,1,2,63").replace(" sigmask", " fd_links=zz sigmask")), { instanceOf: ProtocolError, message: /malformed item/ });
});

test("a child's unexpected descriptors are named with their links; an older report keeps the shorter text", (t) => {
  const withLinks = checkOutcome(plainCase, { result: parseResult(spawnedResult(reportLine(201, "0,1,2,9,63", ["/proc/4321/uid_map", "pipe:[81]"]))) }, amd64HostView);
  t.deepEqual(withLinks, ["child open descriptors: got [0,1,2,9,63], expected [0,1,2,63], unexpected [descriptor 9 (/proc/4321/uid_map)]"]);
  const unreadable = checkOutcome(plainCase, { result: parseResult(spawnedResult(reportLine(201, "0,1,2,9,63", ["", "pipe:[81]"]))) }, amd64HostView);
  t.deepEqual(unreadable, ["child open descriptors: got [0,1,2,9,63], expected [0,1,2,63], unexpected [descriptor 9 (readlink failed)]"]);
  const older = checkOutcome(plainCase, { result: parseResult(spawnedResult(reportLine(201, "0,1,2,9,63"))) }, amd64HostView);
  t.deepEqual(older, ["child open descriptors: got [0,1,2,9,63], expected [0,1,2,63]"]);
  // A pattern written for the shorter text, anchored at both ends, still matches.
  t.regex(withLinks[0]!, /^child open descriptors: got \[.*\], expected \[.*\]$/);
});

const findings = JSON.parse(readFileSync("impls/go/known-findings.json", "utf8")) as { id: string; match: { problems: string[] } }[];
const idMapLeak = findings.find((finding) => finding.id === "go-forkexec-id-map-file-leak-go1.26")!;
const explainedByIdMapLeak = (problem: string) => idMapLeak.match.problems.some((pattern) => new RegExp(pattern).test(problem));

test("Go's id-map file leak finding explains a concurrent spawn's child holding map files, and no other descriptor", (t) => {
  const concurrent: SpawnCase = { ...plainCase, descriptors: [5], concurrentSpawns: [{ path: "exec-target", descriptors: [5] }, { path: "exec-target", descriptors: [] }], rounds: 2 };
  const outcome = (pid: number, fds: string, links: string[]) => `spawned/${pid}/1/exited:0/${hex(reportLine(pid, fds, links))}`;
  const problemsWith = (links: string[]) => {
    const outcomes = [outcome(201, "0,1,2,5,63", ["/dev/null", "pipe:[1]"]), outcome(202, "0,1,2,9,11,63", links), outcome(203, "0,1,2,5,63", ["/dev/null", "pipe:[1]"]), outcome(204, "0,1,2,63", ["pipe:[2]"])];
    const line = `result id=1 outcome=spawned pid=201 waited=1 status=exited:0 suspended=unknown report=${hex(reportLine(201, "0,1,2,5,63", ["/dev/null", "pipe:[1]"]))} zombies=0 live_children=0 leaked_fds=0 thread_outcomes=${outcomes.join(";")} stack_canaries=ok register_canaries=ok`;
    return checkConcurrentSpawns(concurrent, { result: parseResult(line) }, amd64HostView);
  };
  const mapFiles = problemsWith(["/proc/4321/uid_map", "/proc/4322/setgroups", "pipe:[3]"]);
  t.deepEqual(mapFiles, ["spawn 2 of 2, round 1 of 2 (exec-target, fds []): child open descriptors: got [0,1,2,9,11,63], expected [0,1,2,63], unexpected [descriptor 9 (/proc/4321/uid_map), descriptor 11 (/proc/4322/setgroups)]"]);
  t.true(mapFiles.every(explainedByIdMapLeak));
  t.false(problemsWith(["/proc/4321/gid_map", "pipe:[9]", "pipe:[3]"]).every(explainedByIdMapLeak));
  t.false(problemsWith(["/proc/4321/uid_map", "/proc/self/fd", "pipe:[3]"]).every(explainedByIdMapLeak));
});

test("attempts: read from 1 to 20, refused outside in one line naming the entry", (t) => {
  const names = { implementations: ["go"], properties: ["concurrent-spawns"] };
  const withAttempts = (attempts: unknown) => JSON.stringify([{ ...findings.find((finding) => finding.id === idMapLeak.id), attempts }]);
  t.is(parseKnownFindings(withAttempts(12), "k.json", names)[0]!.attempts, 12);
  t.throws(() => parseKnownFindings(withAttempts(21), "k.json", names), { message: `k.json: entry 1 (id "${idMapLeak.id}"): 'attempts': at most 20 (each runs the whole reproducer on every gate)` });
  t.throws(() => parseKnownFindings(withAttempts(0), "k.json", names), { message: /^k\.json: entry 1 \(id "go-forkexec-id-map-file-leak-go1\.26"\): .*attempts/ });
});
