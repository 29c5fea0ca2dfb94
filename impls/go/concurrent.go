package main

// A concurrent case (threads=N thread_spawns=... rounds=R, docs/protocol.md):
// N goroutines, each locked to an OS thread of its own, call the case's
// entry point (syscall.ForkExec or os.StartProcess, spawnThrough) at the
// same moment, each with its own path and descriptors and the rest of the
// case in common, and again R-1 times in a row, each round with
// descriptors of its own. Every caller keeps its own outcomes; the driver
// reads the reports and reaps the children only after all of them have
// returned. No fork_thread: a goroutine cannot fork safely.

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
)

// The protocol's most spawns at once (threads=2..8), and most rounds (rounds=1..8).
const (
	maxConcurrentSpawns = 8
	maxRounds           = 8
)

// rounds=1..8
func parseRounds(value []byte) (int, bool) {
	v, ok := parseDecimal(value)
	return int(v), ok && v >= 1 && v <= maxRounds
}

// What differs between the spawns of a concurrent case: its thread_spawns entry.
type concurrentSpawn struct {
	path    string
	targets []int
}

// "<path item>/<fds>;...": one entry per spawn.
func parseThreadSpawns(value []byte) ([]concurrentSpawn, bool) {
	var spawns []concurrentSpawn
	for _, entry := range bytes.Split(value, []byte(";")) {
		slash := bytes.IndexByte(entry, '/')
		if slash < 0 || len(spawns) == maxConcurrentSpawns {
			return nil, false
		}
		path, ok := decodeItem(entry[:slash])
		if !ok {
			return nil, false
		}
		targets, ok := decodeNumbers(entry[slash+1:], maxDescriptorMoves-1)
		if !ok {
			return nil, false
		}
		spawns = append(spawns, concurrentSpawn{path: path, targets: targets})
	}
	return spawns, true
}

// Why a concurrent case is refused, or "".
func refuseConcurrent(c *parsedCase) string {
	if c.threads != len(c.spawns) {
		return "threads and the entries of thread_spawns differ"
	}
	if c.threads == 0 && c.rounds > 0 {
		return "rounds: only with threads"
	}
	if c.threads > 0 && c.signals.present {
		return "threads: no signal state (it is the process's, not one spawn's)"
	}
	for _, spawn := range c.spawns {
		for _, target := range spawn.targets {
			if target == c.reportFD {
				return "report_fd is one of a spawn's fds"
			}
		}
	}
	return ""
}

// qemu-user 7.2 holds its clone_lock while it creates or retires a guest
// thread and does not take it across a fork: a fork made meanwhile leaves
// the lock held in the child, and the child's exit (Go's child calls
// SYS_EXIT after a failed exec) then waits for it forever. Measured: two
// failing ForkExecs at once hung about half the time on arm64/user and
// riscv64/user, five at once 3 times in 20 with the threads made but not
// yet idle, 0 in 30 once they are. So the threads a concurrent case needs
// are made once, before any of its spawns, and outlive every case:
// warm-up goroutines lock as many threads at once, unlock and end (the
// threads idle), and each spawning goroutine unlocks its thread before it
// ends (an idle thread is reused, never retired).
var threadsWarm sync.Once

func warmThreads() {
	threadsWarm.Do(func() {
		// A thread in ForkExec keeps its P while its vfork child runs (a raw
		// syscall): with fewer Ps than spawns, the spawns would take turns
		// rather than run at the same moment.
		if runtime.GOMAXPROCS(0) < maxConcurrentSpawns+1 {
			runtime.GOMAXPROCS(maxConcurrentSpawns + 1)
		}
		var locked, release, finished sync.WaitGroup
		count := maxConcurrentSpawns + runtime.GOMAXPROCS(0) + 2
		locked.Add(count)
		finished.Add(count)
		release.Add(1)
		for i := 0; i < count; i++ {
			go func() {
				defer finished.Done()
				runtime.LockOSThread()
				locked.Done()
				release.Wait()
				runtime.UnlockOSThread()
			}()
		}
		locked.Wait()
		release.Done()
		// Unlocked and gone: their threads idle, ready for the spawns.
		finished.Wait()
	})
}

type spawnOutcome struct {
	pid     int
	process *os.Process // os.StartProcess's, released once reaped
	err     error
}

// One spawn of one round, prepared before any spawns: its attributes, the
// descriptors it maps, its report pipe's read end, and what it returned.
type roundSpawn struct {
	attr       *syscall.ProcAttr
	sources    []int
	reportRead int
	// os.StartProcess's Files, made here: asFiles keeps a map no two threads may touch at once.
	files  []*os.File
	opened map[int]*os.File
	spawnOutcome
}

func runConcurrentCase(c *parsedCase) []byte {
	memory, _ := mapAndTouch(c.memoryBytes)
	before, descriptorsBefore := listOpenDescriptors()
	rounds := c.rounds
	if rounds == 0 {
		rounds = 1
	}
	// spawns[r][i]: spawn i's round r.
	spawns := make([][]roundSpawn, rounds)
	for r := range spawns {
		spawns[r] = make([]roundSpawn, len(c.spawns))
		for i, spawn := range c.spawns {
			s := &spawns[r][i]
			var files []uintptr
			files, s.sources, s.reportRead = childFiles(before, c.reportFD, spawn.targets)
			s.attr = procAttr(c, files)
			if c.startProcess {
				s.files, s.opened = asFiles(files, s.sources)
			}
		}
	}

	warmThreads()
	var started, done sync.WaitGroup
	release := make(chan struct{})
	marker(c.id, 0)
	for i := range c.spawns {
		started.Add(1)
		done.Add(1)
		go func(i int) {
			defer done.Done()
			// A thread of its own for each spawn, held until its last
			// round returned, then back to the runtime's idle threads
			// (warmThreads).
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			started.Done()
			<-release
			for r := range spawns {
				s := &spawns[r][i]
				s.pid, s.process, s.err = spawnThrough(c.startProcess, c.spawns[i].path, c.argv, s.attr, s.files)
			}
		}(i)
	}
	started.Wait() // every goroutine on its own thread before any spawns
	close(release)
	done.Wait()
	marker(c.id, 2)

	out := []byte("result id=")
	out = strconv.AppendInt(out, c.id, 10)
	var list []byte
	for r := range spawns {
		for i := range spawns[r] {
			s := &spawns[r][i]
			first := r == 0 && i == 0 // the result's own fields are the first spawn's
			closeSources(s.sources, s.opened)
			if len(list) > 0 {
				list = append(list, ';')
			}
			if s.err == nil && s.pid > 0 {
				report, waited, raw := collectChild(s.pid, s.reportRead)
				if s.process != nil {
					s.process.Release()
				}
				if first {
					out = appendSpawnedFields(out, s.pid, waited, raw, "unknown", report)
				}
				list = append(list, "spawned/"...)
				list = strconv.AppendInt(list, int64(s.pid), 10)
				if waited {
					list = append(list, "/1/"...)
				} else {
					list = append(list, "/0/"...)
				}
				list = appendStatus(list, raw)
				list = append(list, '/')
				list = appendReport(list, report)
			} else {
				if first {
					out = appendErrorFields(out, s.err)
				}
				list = append(list, "error/"...)
				list = strconv.AppendInt(list, spawnErrno(s.err), 10)
			}
			closeFD(s.reportRead)
		}
	}
	out = appendLeftovers(out, descriptorsBefore)
	out = appendKey(out, "thread_outcomes")
	out = append(out, list...)
	out = append(out, neutralCanaries...)
	if memory != nil {
		syscall.Munmap(memory)
	}
	return out
}
