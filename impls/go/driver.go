// Command vforkcheck-go-driver speaks the driver line protocol
// (docs/protocol.md) and spawns every case through one of Go's two entry
// points, the implementation under test: syscall.ForkExec (entry=fork_exec,
// the default) or os.StartProcess (entry=start_process, what os/exec calls;
// from Go 1.23 it asks the clone for a pidfd, CLONE_PIDFD, when the kernel
// has them). It mirrors the reference driver
// (native/driver.c) in everything that is not the spawn itself: parsing,
// validation, the descriptors the child gets, the observer markers and the
// post-case measurements.
//
//	vforkcheck-go-driver --driver   serve cases on standard input/output
//
// Besides case lines it answers bench lines (docs/protocol.md, features
// "bench"): it holds the asked memory, mapped and touched, in this process,
// then times each of a series of plain spawns (ForkExec of the exec target
// with --exit, reaped with Wait4), so that the spawn's latency can be set
// against the size of the spawning process. The hello claims "fast_path":
// Go 1.19's forkAndExecInChild1 clones with rawVforkSyscall(SIGCHLD|
// CLONE_VFORK|CLONE_VM) whenever no CLONE_NEWUSER is asked, so its cost
// should not grow with the memory held.
//
// Any other invocation is a usage error (exit 2): the harness uses the
// reference build as the exec target, never this binary.
package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"runtime"
	"sort"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// Every case, every spawn and every marker runs on the initial OS thread:
// the system tier's tracer follows only that thread, and the observers
// count the clones between a case's markers. A locked thread also makes
// the runtime create its new threads from its template thread, never from
// this one, so no runtime clone lands between the markers of a case.
// A concurrent case's spawns are the exception (concurrent.go): each runs
// on a thread of its own, between markers this thread still writes, and
// the observers count no thread clone as a spawn (measured: it passes on
// amd64/host, arm64 and riscv64 under qemu-user, arm64/system).
func init() {
	runtime.LockOSThread()
}

const (
	protocolVersion = 1
	maxLineBytes    = 64 << 20
	maxListItems    = 100000
	maxRepeatCount  = 64 << 20
	// The report descriptor of a case without report_fd.
	reportFD = 63
	// How the exec target finds the report pipe wherever it is: the pipe's
	// size (native/vfc.h REPORT_PIPE_BYTES).
	reportPipeBytes = 32768
	fSetpipeSz      = 1031 // F_LINUX_SPECIFIC_BASE + 7
	maxReportFD     = 1023
	// Descriptors the driver keeps for itself sit at or above this number.
	driverFDBase = 200
	// native/spawn.h: SPAWN_MAX_DESCRIPTOR_MOVES; the report takes one.
	maxDescriptorMoves = 64
	fDupfdCloexec      = 1030 // F_LINUX_SPECIFIC_BASE + 6, on every architecture
	kcmpVM             = 1
	wordBytes          = int(unsafe.Sizeof(uintptr(0)))
)

// kcmp's number on each architecture (syscall lacks SYS_KCMP on some).
var kcmpSyscall = map[string]uintptr{
	"amd64": 312, "386": 349, "arm64": 272, "arm": 378, "ppc64le": 354,
	"s390x": 343, "riscv64": 272, "mips64le": 5306, "loong64": 272,
}

// The hello's entry_points: the first is what a case without entry= uses.
const entryPoints = "fork_exec,start_process"

const features = "clone_flags,unshare_flags,id_maps,setsid,setpgid,cwd,fds,memory,raw_strings,repeat_runs,bench,fast_path,signal_state,report_fd_any,threads,thread_rounds,parent_fds"

// ---- parsing one case line (as native/driver.c parse_case) ----------------

type parsedCase struct {
	id           int64
	path         *string
	cwd          *string
	argv, env    []string
	cloneFlags   uintptr
	unshareFlags uintptr
	setsid       bool
	setpgid      bool
	uidInside    int64
	gidInside    int64
	storm        bool
	pidfd        bool // pidfd=1: ForkExec returns the child's pidfd (pidfd_go122.go)
	memoryBytes  int64
	targets      []int
	parentFDs    []int             // parent_fds: held without close-on-exec across the spawn
	signals      parentSignals     // sigmask, sigignore, sighandle (signals.go)
	reportFD     int               // where the report pipe goes in the child
	threads      int               // threads=N: N spawns at once (concurrent.go); 0: one
	spawns       []concurrentSpawn // thread_spawns: each spawn's path and fds
	rounds       int               // rounds=R: each spawn's runs in a row (concurrent.go); 0: once
	startProcess bool              // entry=start_process: os.StartProcess, else syscall.ForkExec
	err          string            // why the line was refused, or ""
}

func hexValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// An optional '-', then 1 to 18 digits.
func parseDecimal(s []byte) (int64, bool) {
	negative := len(s) > 0 && s[0] == '-'
	i := 0
	if negative {
		i = 1
	}
	if i == len(s) || len(s)-i > 18 {
		return 0, false
	}
	var v int64
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int64(s[i]-'0')
	}
	if negative {
		v = -v
	}
	return v, true
}

// A hex number without prefix that fits an unsigned long of this architecture.
func parseHexNumber(s []byte) (uintptr, bool) {
	if len(s) == 0 || len(s) > 2*wordBytes {
		return 0, false
	}
	var v uintptr
	for _, c := range s {
		d := hexValue(c)
		if d < 0 {
			return 0, false
		}
		v = v<<4 | uintptr(d)
	}
	return v, true
}

// An item: "x", then segments, each two hex digits or "*<count>;" (the byte
// before, repeated count more times). ok is false when malformed.
func decodeItem(s []byte) (string, bool) {
	if len(s) < 1 || s[0] != 'x' {
		return "", false
	}
	out := make([]byte, 0, decodedCapacity(s))
	for i := 1; i < len(s); {
		if s[i] == '*' {
			end := i + 1
			for end < len(s) && s[end] != ';' {
				end++
			}
			if len(out) == 0 || end == len(s) {
				return "", false
			}
			count, ok := parseDecimal(s[i+1 : end])
			if !ok || count < 1 || count > maxRepeatCount {
				return "", false
			}
			b, start := out[len(out)-1], len(out)
			if cap(out)-start < int(count) {
				grown := make([]byte, start, start+int(count)+len(s))
				copy(grown, out)
				out = grown
			}
			out = out[:start+int(count)]
			for k := start; k < len(out); k++ {
				out[k] = b
			}
			i = end + 1
			continue
		}
		if i+1 >= len(s) {
			return "", false
		}
		hi, lo := hexValue(s[i]), hexValue(s[i+1])
		if hi < 0 || lo < 0 {
			return "", false
		}
		out = append(out, byte(hi<<4|lo))
		i += 2
	}
	return string(out), true
}

// How long an item decodes to, counting well-formed runs only (a bound for
// the allocation; decodeItem does the validation).
func decodedCapacity(s []byte) int {
	digits, repeats := 0, 0
	for i := 1; i < len(s); i++ {
		if s[i] != '*' {
			digits++
			continue
		}
		end := i + 1
		for end < len(s) && s[end] != ';' {
			end++
		}
		if count, ok := parseDecimal(s[i+1 : end]); ok && end < len(s) && count > 0 && count <= maxRepeatCount {
			repeats += int(count)
		}
		i = end
	}
	return digits/2 + repeats + 1
}

// "x<hex>,x<hex>,..." (empty: no items).
func decodeList(s []byte) ([]string, bool) {
	if len(s) == 0 {
		return []string{}, true
	}
	if bytes.Count(s, []byte{','})+1 > maxListItems {
		return nil, false
	}
	parts := bytes.Split(s, []byte{','})
	items := make([]string, len(parts))
	for k, part := range parts {
		item, ok := decodeItem(part)
		if !ok {
			return nil, false
		}
		items[k] = item
	}
	return items, true
}

// "5,9" (empty: none): each 0..1023, at most capacity of them.
func decodeNumbers(s []byte, capacity int) ([]int, bool) {
	out := []int{}
	if len(s) == 0 {
		return out, true
	}
	for _, part := range bytes.Split(s, []byte{','}) {
		v, ok := parseDecimal(part)
		if len(out) == capacity || !ok || v < 0 || v > 1023 {
			return nil, false
		}
		out = append(out, int(v))
	}
	return out, true
}

// What the "*<count>;" runs of a line add when decoded (the reference sizes
// its arena with it; a line that could never fit is refused the same way).
func repeatedBytes(line []byte) int64 {
	var total int64
	for i := 0; i < len(line); i++ {
		if line[i] != '*' {
			continue
		}
		end := i + 1
		for end < len(line) && line[end] != ';' {
			end++
		}
		if count, ok := parseDecimal(line[i+1 : end]); ok && end < len(line) && count > 0 && count <= maxRepeatCount {
			total += count
		}
		i = end
	}
	return total
}

// The largest decoded line this driver accepts before it answers "out of
// memory", as the reference does when its arena cannot be mapped. Go
// cannot recover from a failed allocation, so the bound is checked first.
func arenaLimit() int64 {
	if wordBytes == 4 {
		return 1 << 30
	}
	return 1 << 34
}

// Calls field for each "key=value" of line from at (fields are separated by
// single spaces) until one refuses; returns why the line was refused, or "".
func eachField(line []byte, at int, field func(key string, value []byte) string) string {
	for at < len(line) {
		end := at
		for end < len(line) && line[end] != ' ' {
			end++
		}
		eq := bytes.IndexByte(line[at:end], '=')
		if eq < 0 {
			return "field without '='"
		}
		if refused := field(string(line[at:at+eq]), line[at+eq+1:end]); refused != "" {
			return refused
		}
		at = end + 1
	}
	return ""
}

func parseCase(line []byte) *parsedCase {
	c := &parsedCase{id: -1, uidInside: -1, gidInside: -1, argv: []string{}, env: []string{}, reportFD: reportFD}
	if !bytes.HasPrefix(line, []byte("case ")) {
		c.err = "expected a line starting with 'case ' or 'bench '"
		return c
	}
	c.err = eachField(line, len("case "), func(key string, value []byte) string {
		ok := true
		switch key {
		case "id":
			var v int64
			if v, ok = parseDecimal(value); ok {
				c.id = v
			}
		case "path":
			var v string
			if v, ok = decodeItem(value); ok {
				c.path = &v
			}
		case "cwd":
			var v string
			if v, ok = decodeItem(value); ok {
				c.cwd = &v
			}
		case "argv":
			c.argv, ok = decodeList(value)
		case "env":
			c.env, ok = decodeList(value)
		case "clone":
			var v uintptr
			if v, ok = parseHexNumber(value); ok {
				c.cloneFlags = v
			}
		case "unshare":
			var v uintptr
			if v, ok = parseHexNumber(value); ok {
				c.unshareFlags = v
			}
		case "pidfd":
			var v int64
			v, ok = parseDecimal(value)
			ok = ok && v >= 0 && v <= 1
			c.pidfd = v == 1
		case "setsid", "setpgid", "storm":
			var v int64
			v, ok = parseDecimal(value)
			ok = ok && v >= 0 && v <= 1
			if ok {
				switch key {
				case "setsid":
					c.setsid = v == 1
				case "setpgid":
					c.setpgid = v == 1
				default:
					c.storm = v == 1
				}
			}
		case "uid":
			var v int64
			if v, ok = parseDecimal(value); ok {
				c.uidInside = v
			}
		case "gid":
			var v int64
			if v, ok = parseDecimal(value); ok {
				c.gidInside = v
			}
		case "memory":
			var v int64
			v, ok = parseDecimal(value)
			ok = ok && v >= 0
			if ok {
				c.memoryBytes = v
			}
		case "fds":
			c.targets, ok = decodeNumbers(value, maxDescriptorMoves-1)
		case "parent_fds":
			c.parentFDs, ok = decodeNumbers(value, maxDescriptorMoves)
		case "sigmask":
			var numbers []int
			if numbers, ok = parseSignals(value); ok {
				c.signals.mask = signalSet{}
				for _, n := range numbers {
					c.signals.mask.add(n)
				}
			}
			c.signals.present = true
		case "sigignore":
			c.signals.ignore, ok = parseSignals(value)
			c.signals.present = true
		case "sighandle":
			c.signals.handle, ok = parseSignals(value)
			c.signals.present = true
		case "entry":
			switch string(value) {
			case "fork_exec":
				c.startProcess = false
			case "start_process":
				c.startProcess = true
			default:
				return "unknown entry point"
			}
		case "report_fd":
			var v int64
			v, ok = parseDecimal(value)
			ok = ok && v >= 0 && v <= maxReportFD
			if ok {
				c.reportFD = int(v)
			}
		case "threads":
			var v int64
			v, ok = parseDecimal(value)
			ok = ok && v >= 2 && v <= maxConcurrentSpawns
			if ok {
				c.threads = int(v)
			}
		case "thread_spawns":
			c.spawns, ok = parseThreadSpawns(value)
		case "rounds":
			c.rounds, ok = parseRounds(value)
		default:
			return "unknown field"
		}
		if !ok {
			return "malformed field value"
		}
		return ""
	})
	if c.err != "" {
		return c
	}
	// The storm is the process's, not one spawn's.
	if c.storm && c.threads > 0 {
		c.err = "threads: no storm (it is the process's, not one spawn's)"
	} else if c.pidfd && pidfdFeature == "" {
		c.err = "pidfd: this Go has no SysProcAttr.PidFD (Go 1.22)"
	} else if c.signals.present {
		c.err = refuseSignals(&c.signals)
	}
	for _, target := range c.targets {
		if target == c.reportFD {
			c.err = "report_fd is one of fds"
		}
	}
	if len(c.parentFDs) > 0 && c.threads > 0 {
		c.err = "threads: no parent_fds"
	}
	for _, fd := range c.parentFDs {
		for _, target := range c.targets {
			if fd == target {
				c.err = "parent_fds and fds share a number"
			}
		}
		if fd == c.reportFD {
			c.err = "report_fd is one of parent_fds"
		}
	}
	if reason := refuseConcurrent(c); reason != "" {
		c.err = reason
	}
	if c.id < 0 {
		c.err = "missing id"
	} else if c.path == nil {
		c.err = "missing path"
	}
	return c
}

// ---- parsing one bench line ------------------------------------------------

type parsedBench struct {
	id          int64
	path        *string
	memoryBytes int64 // -1 until given
	spawns      int64 // 0 until given
	err         string
}

// "bench id=N path=<item> memory=<bytes> spawns=<1..10000>", every field
// required: a missing memory would otherwise silently release what is held.
func parseBench(line []byte) *parsedBench {
	b := &parsedBench{id: -1, memoryBytes: -1}
	b.err = eachField(line, len("bench "), func(key string, value []byte) string {
		var v int64
		ok := true
		switch key {
		case "id":
			if v, ok = parseDecimal(value); ok {
				b.id = v
			}
		case "path":
			var path string
			if path, ok = decodeItem(value); ok {
				b.path = &path
			}
		case "memory":
			v, ok = parseDecimal(value)
			ok = ok && v >= 0
			if ok {
				b.memoryBytes = v
			}
		case "spawns":
			v, ok = parseDecimal(value)
			ok = ok && v >= 1 && v <= 10000
			if ok {
				b.spawns = v
			}
		default:
			return "unknown field"
		}
		if !ok {
			return "malformed field value"
		}
		return ""
	})
	if b.err != "" {
		return b
	}
	switch {
	case b.id < 0:
		b.err = "missing id"
	case b.path == nil:
		b.err = "missing path"
	case b.memoryBytes < 0:
		b.err = "missing memory"
	case b.spawns == 0:
		b.err = "missing spawns"
	}
	return b
}

// ---- small system-call helpers --------------------------------------------

func fcntl(fd, cmd, arg int) (int, syscall.Errno) {
	r, _, e := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(fd), uintptr(cmd), uintptr(arg))
	if e != 0 {
		return -1, e
	}
	return int(r), 0
}

func closeFD(fd int) {
	if fd >= 0 {
		syscall.Close(fd)
	}
}

// The open descriptors of this process, sorted, from /proc/self/fd; the
// descriptor used for listing is left out. count is -errno on failure.
func listOpenDescriptors() (fds []int, count int) {
	dir, err := syscall.Open("/proc/self/fd", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, -int(errnoOf(err))
	}
	defer syscall.Close(dir)
	buf := make([]byte, 4096)
	for {
		n, err := syscall.ReadDirent(dir, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, -int(errnoOf(err))
		}
		if n <= 0 {
			break
		}
		_, _, names := syscall.ParseDirent(buf[:n], -1, nil)
		for _, name := range names {
			fd, err := strconv.Atoi(name)
			if err == nil && fd != dir {
				fds = append(fds, fd)
			}
		}
	}
	sort.Ints(fds)
	return fds, len(fds)
}

// The errno inside err: os.StartProcess wraps it in a *os.PathError.
func errnoOf(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return syscall.EINVAL
}

// The observer marker: lseek(-1, id, whence), failing with EBADF. Plain
// lseek on every architecture: syscall.Seek is _llseek on 386 and arm,
// which the observers do not recognise as a marker.
func marker(id int64, whence int) {
	syscall.Syscall(syscall.SYS_LSEEK, ^uintptr(0), uintptr(id), uintptr(whence))
}

func writeAll(fd int, data []byte) {
	for len(data) > 0 {
		n, err := syscall.Write(fd, data)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return
		}
		data = data[n:]
	}
}

// Maps and touches size bytes of parent memory, one write per 4 KiB; none
// for size 0.
// MADV_NOHUGEPAGE, the same number on every architecture built here.
const madviseNoHugepage = 15

func mapAndTouch(size int64) ([]byte, error) {
	if size <= 0 {
		return nil, nil
	}
	if size > int64(^uint(0)>>1) {
		return nil, syscall.ENOMEM // more than this architecture can address
	}
	memory, err := syscall.Mmap(-1, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, err
	}
	// 4 KiB pages, as the reference holds them: with transparent huge pages
	// (a Debian VM kernel's default) a fork would copy 512 times fewer
	// page-table entries. Advice only: its failure changes nothing else.
	_ = syscall.Madvise(memory, madviseNoHugepage)
	for i := 0; i < len(memory); i += 4096 {
		memory[i] = 1
	}
	return memory, nil
}

// A close-on-exec copy of fd at or above driverFDBase; the original is closed.
func moveAboveBase(fd int) int {
	if fd < 0 {
		return -1
	}
	moved, _ := fcntl(fd, fDupfdCloexec, driverFDBase)
	syscall.Close(fd)
	return moved
}

// ---- running one case ------------------------------------------------------

func appendKey(out []byte, key string) []byte {
	out = append(out, ' ')
	out = append(out, key...)
	return append(out, '=')
}

func errorLine(id int64, reason string) []byte {
	out := []byte("error id=")
	out = strconv.AppendInt(out, id, 10)
	out = append(out, " reason="...)
	out = append(out, hex.EncodeToString([]byte(reason))...)
	return append(out, '\n')
}

func runCaseLine(line []byte) []byte {
	c := parseCase(line)
	if c.err != "" {
		return errorLine(c.id, c.err)
	}
	if c.threads > 0 {
		return runConcurrentCase(c)
	}
	if reason := openParentFDs(c.parentFDs); reason != "" {
		return errorLine(c.id, reason)
	}
	// Best effort, as the reference: a case runs without memory it cannot have.
	memory, _ := mapAndTouch(c.memoryBytes)
	before, descriptorsBefore := listOpenDescriptors()
	pidfdsBefore := 0
	if c.pidfd {
		pidfdsBefore = countOpenPidfds()
	}

	files, sources, reportRead := childFiles(before, c.reportFD, c.targets)
	attr := procAttr(c, files)
	// The spawn's outputs start at the preset, so that what a failure left in them shows.
	pidfd := outputPreset
	if c.pidfd {
		askForPidfd(attr.Sys, &pidfd)
	}

	// The storm runs from just before the spawn until it returned (storm.go).
	if c.storm {
		startStorm()
	}
	// The case's parent signal state holds for the spawn only.
	var restoreSignals func()
	var spawnErr error
	pid := outputPreset
	if c.signals.present {
		var errno syscall.Errno
		if restoreSignals, errno = applySignals(&c.signals); errno != 0 {
			spawnErr = errno
		}
	}
	var process *os.Process
	var processFiles []*os.File
	var opened map[int]*os.File
	if c.startProcess {
		processFiles, opened = asFiles(files, sources)
	}
	marker(c.id, 0)
	if spawnErr == nil {
		pid, process, spawnErr = spawnThrough(c.startProcess, *c.path, c.argv, attr, processFiles)
	}
	if c.storm {
		stopStorm()
	}
	marker(c.id, 2)
	if restoreSignals != nil {
		restoreSignals()
	}
	// A number a failed spawn handed back, looked at before anything else can take it.
	returnedPidfd := ""
	if spawnErr != nil && pidfd >= 0 {
		returnedPidfd = returnedDescriptorState(pidfd)
	}

	out := []byte("result id=")
	out = strconv.AppendInt(out, c.id, 10)
	// Still sharing our memory after the spawn returned means the parent
	// ran before the child's exec or exit: not suspended.
	suspended := "unknown"
	if spawnErr == nil && pid > 0 {
		if nr, known := kcmpSyscall[runtime.GOARCH]; known {
			same, _, e := syscall.RawSyscall6(nr, uintptr(syscall.Getpid()), uintptr(pid), kcmpVM, 0, 0, 0)
			if e == 0 {
				if same == 0 {
					suspended = "no"
				} else {
					suspended = "yes"
				}
			}
		}
	}
	closeSources(sources, opened)

	if spawnErr == nil && pid > 0 {
		report := readToEnd(reportRead)
		// A pidfd case reaps through the pidfd: it must be the child's.
		waited, raw := false, uint32(0)
		pidfdPid, pidfdReaped := -1, -int(syscall.EBADF)
		if pidfd >= 0 {
			if target, isPidfd := pidfdTargetPid(pidfd); isPidfd {
				pidfdPid = target
			}
			reaped, status, errno := reapThroughPidfd(pidfd)
			pidfdReaped = reaped
			if errno != 0 {
				pidfdReaped = -int(errno)
			} else if reaped == pid {
				waited, raw = true, uint32(status)
			}
			closeFD(pidfd)
		}
		if !waited {
			waited, raw = waitChild(pid)
		}
		// Reaped above; Release closes the pidfd os.StartProcess holds (Go >= 1.23).
		if process != nil {
			process.Release()
		}
		out = appendSpawnedFields(out, pid, waited, raw, suspended, report)
		if c.pidfd {
			out = appendKey(out, "pidfd_pid")
			out = strconv.AppendInt(out, int64(pidfdPid), 10)
			out = appendKey(out, "pidfd_reaped")
			out = strconv.AppendInt(out, int64(pidfdReaped), 10)
		}
	} else {
		out = appendErrorFields(out, spawnErr)
		out = appendFailedOutputs(out, c, pid, process, pidfd, returnedPidfd)
	}
	closeFD(reportRead)
	if c.pidfd {
		// Once the pidfd the driver got is closed: a spawn, failed or not, must leave none.
		out = appendKey(out, "leaked_pidfds")
		out = strconv.AppendInt(out, int64(countOpenPidfds()-pidfdsBefore), 10)
	}
	out = appendLeftovers(out, descriptorsBefore)
	closeParentFDs(c.parentFDs)
	if c.storm {
		// The storm ran; whether a handler ran in the child is the runtime's (storm.go).
		out = append(appendKey(out, "storm"), "unobserved"...)
	}
	out = append(out, neutralCanaries...)
	if memory != nil {
		syscall.Munmap(memory)
	}
	return out
}

// parent_fds: /dev/null at each number, without close-on-exec, held across
// the spawn as a caller's leftovers are; childFiles passes those below the
// end of Files as themselves, as it does what the driver inherited. The
// driver's own descriptors (the runtime's) lie below 10 and from 300; one
// it holds in between can only be a leak of the spawn under test (Go 1.19's
// map pipes), and is moved out of the way (flags kept) rather than refusing
// the case. Returns why they could not be opened (having closed those it
// opened), or "".
func openParentFDs(fds []int) string {
	for i, fd := range fds {
		reason := ""
		if !moveAside(fd) {
			reason = "parent_fds: cannot move the driver's own descriptor out of the way"
		} else if null, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0); err != nil {
			reason = "parent_fds: cannot open /dev/null"
		} else if null == fd {
			if _, e := fcntl(fd, syscall.F_SETFD, 0); e != 0 {
				reason = "parent_fds: cannot clear close-on-exec"
			}
		} else {
			if syscall.Dup3(null, fd, 0) != nil {
				reason = "parent_fds: cannot open /dev/null there"
			}
			syscall.Close(null)
		}
		if reason != "" {
			closeParentFDs(fds[:i])
			return reason
		}
	}
	return ""
}

// Moves a descriptor the driver holds at fd to 400 or above, its flags
// kept; true when fd is free now.
func moveAside(fd int) bool {
	flags, e := fcntl(fd, syscall.F_GETFD, 0)
	if e != 0 {
		return true // not open: nothing in the way
	}
	moved, e := fcntl(fd, syscall.F_DUPFD, movedAsideBase)
	if e != 0 {
		return false
	}
	fcntl(moved, syscall.F_SETFD, flags)
	return syscall.Close(fd) == nil
}

const movedAsideBase = 400

// Closes the parent's descriptors, through the *os.File os.StartProcess
// was given for one (asFiles keeps those), never behind the file's back.
func closeParentFDs(fds []int) {
	for _, fd := range fds {
		if file := inheritedFiles[fd]; file != nil {
			file.Close()
			delete(inheritedFiles, fd)
		} else {
			closeFD(fd)
		}
	}
}

// The child's descriptor table, as the reference child's: every
// descriptor this process holds without close-on-exec, the report
// pipe's write end on the case's report descriptor, then /dev/null on
// each asked descriptor (in order, so a later move wins). Files covers
// 0 up to the highest of them; a slot
// ForkExec is given as -1 it closes in the child, so the descriptors
// inherited below the end of Files are passed as themselves. Sources
// are close-on-exec copies at 200 and above, like the reference's.
// Returns Files, the sources to close after the spawn, and the report
// pipe's read end.
func childFiles(before []int, reportFD int, targets []int) ([]uintptr, []int, int) {
	length := reportFD + 1
	for _, target := range targets {
		if target+1 > length {
			length = target + 1
		}
	}
	files := make([]uintptr, length)
	for i := range files {
		files[i] = ^uintptr(0)
	}
	for _, fd := range before {
		if fd >= length {
			continue
		}
		if flags, e := fcntl(fd, syscall.F_GETFD, 0); e == 0 && flags&syscall.FD_CLOEXEC == 0 {
			files[fd] = uintptr(fd)
		}
	}
	reportPipe := []int{-1, -1}
	if syscall.Pipe2(reportPipe, syscall.O_CLOEXEC) != nil {
		reportPipe = []int{-1, -1}
	}
	fcntl(reportPipe[1], fSetpipeSz, reportPipeBytes)
	sources := []int{moveAboveBase(reportPipe[1])}
	files[reportFD] = uintptr(sources[0])
	for _, target := range targets {
		null, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			null = -1
		}
		source := moveAboveBase(null)
		sources = append(sources, source)
		files[target] = uintptr(source)
	}
	return files, sources, reportPipe[0]
}

// ForkExec's attributes for a case, with the descriptor table files.
func procAttr(c *parsedCase, files []uintptr) *syscall.ProcAttr {
	attr := &syscall.ProcAttr{
		Env:   c.env,
		Files: files,
		Sys: &syscall.SysProcAttr{
			Cloneflags:   c.cloneFlags,
			Unshareflags: c.unshareFlags,
			Setsid:       c.setsid,
			Setpgid:      c.setpgid,
		},
	}
	if c.cwd != nil {
		attr.Dir = *c.cwd
	}
	if (c.cloneFlags|c.unshareFlags)&syscall.CLONE_NEWUSER != 0 {
		attr.Sys.UidMappings = []syscall.SysProcIDMap{{ContainerID: int(c.uidInside), HostID: syscall.Geteuid(), Size: 1}}
		attr.Sys.GidMappings = []syscall.SysProcIDMap{{ContainerID: int(c.gidInside), HostID: syscall.Getegid(), Size: 1}}
		attr.Sys.GidMappingsEnableSetgroups = false
	}
	return attr
}

// A spawned child: its report read to EOF, then reaped. Returns the
// report, whether Wait4 reaped that pid, and the raw wait status.
func collectChild(pid int, reportRead int) ([]byte, bool, uint32) {
	report := readToEnd(reportRead)
	waited, raw := waitChild(pid)
	return report, waited, raw
}

// Whether Wait4 reaped that pid, and the raw wait status.
func waitChild(pid int) (bool, uint32) {
	var status syscall.WaitStatus
	var waited int
	var err error
	for {
		waited, err = syscall.Wait4(pid, &status, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		status = 0
	}
	return err == nil && waited == pid, uint32(status)
}

// exited:N or signaled:N, from a raw wait status.
func appendStatus(out []byte, raw uint32) []byte {
	if raw&0x7f == 0 {
		out = append(out, "exited:"...)
		return strconv.AppendUint(out, uint64(raw>>8&0xff), 10)
	}
	out = append(out, "signaled:"...)
	return strconv.AppendUint(out, uint64(raw&0x7f), 10)
}

// The report as an item, trailing LFs stripped.
func appendReport(out []byte, report []byte) []byte {
	out = append(out, 'x')
	return append(out, hex.EncodeToString(bytes.TrimRight(report, "\n"))...)
}

func appendSpawnedFields(out []byte, pid int, waited bool, raw uint32, suspended string, report []byte) []byte {
	out = appendKey(out, "outcome")
	out = append(out, "spawned"...)
	out = appendKey(out, "pid")
	out = strconv.AppendInt(out, int64(pid), 10)
	out = appendKey(out, "waited")
	if waited {
		out = append(out, '1')
	} else {
		out = append(out, '0')
	}
	out = appendKey(out, "status")
	out = appendStatus(out, raw)
	out = appendKey(out, "suspended")
	out = append(out, suspended...)
	out = appendKey(out, "report")
	return appendReport(out, report)
}

// The errno ForkExec returned; EINVAL for no error and no pid (not expected).
func spawnErrno(spawnErr error) int64 {
	if spawnErr == nil {
		return int64(syscall.EINVAL)
	}
	return int64(errnoOf(spawnErr))
}

func appendErrorFields(out []byte, spawnErr error) []byte {
	out = appendKey(out, "outcome")
	out = append(out, "error"...)
	out = appendKey(out, "errno")
	return strconv.AppendInt(out, spawnErrno(spawnErr), 10)
}

// Children left behind, descriptors opened and not closed, and the
// neutral canaries: the fields every result ends with.
func appendLeftovers(out []byte, descriptorsBefore int) []byte {
	// Children left behind: zombies (reaped here, so the next case starts
	// clean) and live ones. __WALL: a child whose exit signal is not
	// SIGCHLD is invisible otherwise.
	zombies, live := 0, 0
	for {
		var status syscall.WaitStatus
		r, err := syscall.Wait4(-1, &status, syscall.WNOHANG|syscall.WALL, nil)
		if err == nil && r > 0 {
			zombies++
			continue
		}
		if err == nil && r == 0 {
			live = 1
		}
		break
	}
	_, descriptorsAfter := listOpenDescriptors()
	out = appendKey(out, "zombies")
	out = strconv.AppendInt(out, int64(zombies), 10)
	out = appendKey(out, "live_children")
	out = strconv.AppendInt(out, int64(live), 10)
	out = appendKey(out, "leaked_fds")
	return strconv.AppendInt(out, int64(descriptorsAfter-descriptorsBefore), 10)
}

// What a spawn preset its outputs to (docs/protocol.md, "What a failed
// spawn hands back"): no spawn writes it.
const outputPreset = -2

// failed_pid and failed_pidfd (docs/protocol.md): what the failed spawn
// left in its outputs. ForkExec returns a pid (preset here, in case it was
// never called); os.StartProcess a *Process, nil or not.
func appendFailedOutputs(out []byte, c *parsedCase, pid int, process *os.Process, pidfd int, returnedPidfd string) []byte {
	out = appendKey(out, "failed_pid")
	switch {
	case !c.startProcess:
		out = strconv.AppendInt(out, int64(pid), 10)
	case process == nil:
		out = append(out, "none"...)
	default:
		out = strconv.AppendInt(out, int64(process.Pid), 10)
	}
	if !c.pidfd {
		return out
	}
	out = appendKey(out, "failed_pidfd")
	out = strconv.AppendInt(out, int64(pidfd), 10)
	if pidfd >= 0 {
		out = appendKey(out, "failed_pidfd_is")
		out = append(out, returnedPidfd...)
	}
	return out
}

// Go cannot look at its caller's stack or registers across the call:
// the protocol's neutral values end every result line.
const neutralCanaries = " stack_canaries=ok register_canaries=ok\n"

// Spawns through the case's entry point: os.StartProcess, with Files as
// *os.File made beforehand (asFiles), or syscall.ForkExec.
func spawnThrough(startProcess bool, path string, argv []string, attr *syscall.ProcAttr, processFiles []*os.File) (int, *os.Process, error) {
	if !startProcess {
		pid, err := syscall.ForkExec(path, argv, attr)
		return pid, nil, err
	}
	process, err := os.StartProcess(path, argv, &os.ProcAttr{Dir: attr.Dir, Env: attr.Env, Files: processFiles, Sys: attr.Sys})
	if err != nil {
		return 0, process, err // what the failed call handed back (nil in every Go so far): failed_pid reads it
	}
	return process.Pid, process, nil
}

// Descriptors the driver inherited, as *os.File for os.StartProcess's
// Files: made once and kept, because a collected *os.File closes its
// descriptor.
var inheritedFiles = map[int]*os.File{0: os.Stdin, 1: os.Stdout, 2: os.Stderr}

// files (ForkExec's Files) as os.StartProcess's: nil where ForkExec has -1,
// a kept *os.File for an inherited descriptor, a new one for each of this
// case's sources, returned by descriptor too, so that closeSources closes
// it through its file and never behind the file's back.
func asFiles(files []uintptr, sources []int) ([]*os.File, map[int]*os.File) {
	out := make([]*os.File, len(files))
	opened := map[int]*os.File{}
	for _, source := range sources {
		if source >= 0 {
			opened[source] = os.NewFile(uintptr(source), "source")
		}
	}
	for i, fd := range files {
		if fd == ^uintptr(0) {
			continue
		}
		if file := opened[int(fd)]; file != nil {
			out[i] = file
			continue
		}
		if inheritedFiles[int(fd)] == nil {
			inheritedFiles[int(fd)] = os.NewFile(fd, "inherited")
		}
		out[i] = inheritedFiles[int(fd)]
	}
	return out, opened
}

// Closes the case's sources, through their *os.File where os.StartProcess had one.
func closeSources(sources []int, opened map[int]*os.File) {
	for _, source := range sources {
		if file := opened[source]; file != nil {
			file.Close()
		} else {
			closeFD(source)
		}
	}
}

func readToEnd(fd int) []byte {
	var data []byte
	if fd < 0 {
		return data
	}
	buf := make([]byte, 65536)
	for {
		n, err := syscall.Read(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return data
		}
		data = append(data, buf[:n]...)
	}
}

// ---- running one bench line ----------------------------------------------

// The memory bench lines hold: one region, kept across bench lines while
// the size asked stays the same, so that a series at one size maps it once.
var heldMemory []byte

// Makes heldMemory exactly size bytes, mapped and touched (none for 0): the
// old region goes first, so the two are never held at once. Returns why it
// could not, or "".
func holdMemory(size int64) string {
	if int64(len(heldMemory)) == size {
		return ""
	}
	if heldMemory != nil {
		syscall.Munmap(heldMemory)
		heldMemory = nil
	}
	memory, err := mapAndTouch(size)
	if err != nil {
		return "memory: cannot map " + strconv.FormatInt(size, 10) + " bytes: " + err.Error()
	}
	heldMemory = memory
	return ""
}

// The spawns of a bench, one after another, each timed from just before
// ForkExec until Wait4 reaped the child: their nanoseconds, or why the
// series stopped. Only what a plain spawn needs: argv [path, "--exit"], an
// empty environment, no cwd, no attributes, and /dev/null on 0, 1 and 2.
func timeSpawns(path string, spawns int64) ([]int64, string) {
	null, err := syscall.Open("/dev/null", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, "cannot open /dev/null: " + err.Error()
	}
	defer syscall.Close(null)
	// 0 and 1 are /dev/null already (takeProtocolDescriptors); 2 is ours,
	// where the observer's output goes.
	attr := &syscall.ProcAttr{Env: []string{}, Files: []uintptr{0, 1, uintptr(null)}}
	argv := []string{path, "--exit"}
	timings := make([]int64, 0, spawns)
	for n := int64(1); n <= spawns; n++ {
		spawn := "spawn " + strconv.FormatInt(n, 10) + ": "
		start := time.Now()
		pid, err := syscall.ForkExec(path, argv, attr)
		if err != nil {
			return nil, spawn + "errno " + strconv.Itoa(int(errnoOf(err)))
		}
		var status syscall.WaitStatus
		for {
			_, err = syscall.Wait4(pid, &status, 0, nil)
			if err != syscall.EINTR {
				break
			}
		}
		elapsed := time.Since(start).Nanoseconds()
		switch {
		case err != nil:
			return nil, spawn + "wait4: errno " + strconv.Itoa(int(errnoOf(err)))
		case status.Signaled():
			return nil, spawn + "killed by signal " + strconv.Itoa(int(status.Signal()))
		case !status.Exited() || status.ExitStatus() != 0:
			return nil, spawn + "child exited " + strconv.Itoa(status.ExitStatus())
		}
		timings = append(timings, elapsed)
	}
	return timings, ""
}

// Answers "timings id=N ns=<d1>,<d2>,..." or "timings id=N failure=<item>".
// No observer markers: a bench is not a case.
func runBenchLine(line []byte) []byte {
	b := parseBench(line)
	if b.err != "" {
		return errorLine(b.id, b.err)
	}
	failure := holdMemory(b.memoryBytes)
	var timings []int64
	if failure == "" {
		timings, failure = timeSpawns(*b.path, b.spawns)
	}
	out := []byte("timings id=")
	out = strconv.AppendInt(out, b.id, 10)
	if failure != "" {
		out = appendKey(out, "failure")
		out = append(out, 'x')
		out = append(out, hex.EncodeToString([]byte(failure))...)
		return append(out, '\n')
	}
	out = appendKey(out, "ns")
	for k, ns := range timings {
		if k > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendInt(out, ns, 10)
	}
	return append(out, '\n')
}

// The answer to one input line: a bench line's or a case line's.
func answerLine(line []byte) []byte {
	// Go cannot recover from a failed allocation, so a line whose items
	// could decode past the bound is refused before anything is decoded.
	if 6*int64(len(line))+repeatedBytes(line)+4096 > arenaLimit() {
		return errorLine(-1, "out of memory")
	}
	if bytes.HasPrefix(line, []byte("bench ")) {
		return runBenchLine(line)
	}
	return runCaseLine(line)
}

// ---- hello -----------------------------------------------------------------

func hello() []byte {
	out := []byte("hello protocol=")
	out = strconv.AppendInt(out, protocolVersion, 10)
	out = append(out, " impl=go arch="...)
	out = append(out, runtime.GOARCH...)
	out = append(out, " pid="...)
	out = strconv.AppendInt(out, int64(syscall.Getpid()), 10)
	out = appendKey(out, "euid")
	out = strconv.AppendInt(out, int64(syscall.Geteuid()), 10)
	out = appendKey(out, "egid")
	out = strconv.AppendInt(out, int64(syscall.Getegid()), 10)
	out = appendKey(out, "pgid")
	pgid, err := syscall.Getpgid(0)
	if err != nil {
		pgid = -int(errnoOf(err))
	}
	out = strconv.AppendInt(out, int64(pgid), 10)
	out = appendKey(out, "sid")
	sid, _, e := syscall.RawSyscall(syscall.SYS_GETSID, 0, 0, 0)
	if e != 0 {
		out = strconv.AppendInt(out, -int64(e), 10)
	} else {
		out = strconv.AppendInt(out, int64(sid), 10)
	}
	out = appendKey(out, "cwd")
	out = append(out, 'x')
	cwd := make([]byte, 4200)
	if n, err := syscall.Getcwd(cwd); err == nil && n > 0 {
		if end := bytes.IndexByte(cwd, 0); end >= 0 {
			cwd = cwd[:end]
		}
		out = append(out, hex.EncodeToString(cwd)...)
	}
	// Descriptors this process holds without close-on-exec: every child
	// inherits them. The runtime's own (epoll, its wakeup pipe) are
	// close-on-exec and so are not listed.
	out = appendKey(out, "inherited_fds")
	fds, _ := listOpenDescriptors()
	listed := 0
	for _, fd := range fds {
		flags, e := fcntl(fd, syscall.F_GETFD, 0)
		if e != 0 || flags&syscall.FD_CLOEXEC != 0 {
			continue
		}
		if listed > 0 {
			out = append(out, ',')
		}
		listed++
		out = strconv.AppendInt(out, int64(fd), 10)
	}
	out = appendKey(out, "report_fd")
	out = strconv.AppendInt(out, reportFD, 10)
	out = appendKey(out, "features")
	out = append(out, features...)
	out = append(out, pidfdFeature...)
	out = append(out, stormFeature...)
	out = appendKey(out, "entry_points")
	out = append(out, entryPoints...)
	out = append(out, " signal_contract=posix"...)
	out = appendKey(out, "signals_kept")
	for i, n := range signalsKept {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendInt(out, int64(n), 10)
	}
	return append(out, '\n')
}

// ---- the driver loop -------------------------------------------------------

var protocolIn, protocolOut = 0, 1

// Keeps the protocol on private close-on-exec descriptors and gives children
// /dev/null as standard input and output, so nothing a child prints can
// corrupt it.
func takeProtocolDescriptors() {
	protocolIn, _ = fcntl(0, fDupfdCloexec, driverFDBase+100)
	protocolOut, _ = fcntl(1, fDupfdCloexec, driverFDBase+100)
	// The protocol is read and written blocking, whatever the harness gave.
	for _, fd := range []int{protocolIn, protocolOut} {
		if fd >= 0 {
			syscall.SetNonblock(fd, false)
		}
	}
	null, err := syscall.Open("/dev/null", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err == nil {
		syscall.Dup3(null, 0, 0)
		syscall.Dup3(null, 1, 0)
		syscall.Close(null)
	}
}

// Makes the runtime open now what it would otherwise open lazily in the
// middle of a case: the network poller (an epoll descriptor and a wakeup
// pipe, both close-on-exec) is started by the first timer, and a first
// collection starts the background workers' threads. Descriptors counted
// before and after a case are then the same ones.
//
// os.StartProcess of Go >= 1.23 checks once whether pidfds work, with a
// clone(CLONE_PIDFD) of its own; finding this process's pidfd runs that
// check now, so that its clone never lands between a case's markers.
func warmUpRuntime() {
	time.NewTimer(time.Hour).Stop()
	if self, err := os.FindProcess(os.Getpid()); err == nil {
		self.Release()
	}
	runtime.GC()
}

func driverMain() {
	prepareStorm()
	warmUpRuntime()
	takeProtocolDescriptors()
	writeAll(protocolOut, hello())
	in := make([]byte, 0, 1<<20)
	scanned := 0
	for {
		newline := bytes.IndexByte(in[scanned:], '\n')
		if newline < 0 {
			scanned = len(in)
			if len(in) > maxLineBytes {
				writeAll(protocolOut, errorLine(-1, "line too long"))
				os.Exit(2)
			}
			if cap(in)-len(in) < 1<<20 {
				grown := make([]byte, len(in), 2*cap(in)+(1<<20))
				copy(grown, in)
				in = grown
			}
			n, err := syscall.Read(protocolIn, in[len(in):cap(in)])
			if err == syscall.EINTR {
				continue
			}
			if err != nil || n <= 0 {
				os.Exit(0) // the harness closed the pipe: done
			}
			in = in[:len(in)+n]
			continue
		}
		newline += scanned
		if newline > 0 {
			writeAll(protocolOut, answerLine(in[:newline]))
		}
		in = in[:copy(in, in[newline+1:])]
		scanned = 0
	}
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--driver" {
		driverMain()
	}
	os.Stderr.WriteString("usage: vforkcheck-go-driver --driver (serves the protocol of docs/protocol.md on stdin/stdout)\n")
	os.Exit(2)
}
