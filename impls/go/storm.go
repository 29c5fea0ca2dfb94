// The signal storm (docs/protocol.md, storm=1) as far as Go allows it. The
// runtime owns every handler: it installs its own, always with
// SA_RESTART|SA_ONSTACK, and resets them in a child (clearSignalHandlers);
// a handler the driver installed itself would be one the runtime does not
// reset. So the parent's handler for the storm's SIGWINCH is the runtime's,
// routed by signal.Notify, and nothing of the driver's own runs in a child
// to be counted: a storm case answers storm=unobserved, and the hello lists
// signal_interrupts (interrupted-wait judges the spawn's outcome under the
// storm), not signal_storm nor handler_flags.
//
// The storm comes from a thread of the driver's own, not a process: a Go
// program cannot fork without exec, and under qemu-user it cannot exec
// itself either (a foreign binary runs only through binfmt_misc). Its
// kill(-pgid) is process-directed as the reference storm process's is
// (native/signal-storm.c, whose loop this is): it reaches the driver and
// every child in its group, the vfork child between clone and exec too,
// while the spawning thread waits. It blocks the signal itself, so the
// kernel hands the driver's copy to another thread, the spawning one first
// (the main thread gets the first chance).
package main

import (
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

// The hello's feature for the storm this driver runs.
const stormFeature = ",signal_interrupts"

const (
	stormInterval = 50 * time.Microsecond
	// While the tracer holds the driver (the system tier's init), a longer
	// nap, as in the reference: shorter, and the driver would run nothing
	// but signal stops.
	stormTracedNap = 200 * stormInterval
)

// Where the storm's signals go: nobody reads it, Notify drops what does not fit.
var stormSignals = make(chan os.Signal, 1)

var (
	stormStart    = make(chan struct{})
	stormStarted  = make(chan struct{})
	stormStopped  = make(chan struct{})
	stormStopping atomic.Bool
)

// Once, before the hello: own process group (so the storm reaches only the
// driver and its children), the runtime's handler routed for SIGWINCH, and
// the storm's thread, made now so that no thread is created in a case.
func prepareStorm() {
	syscall.Setpgid(0, 0)
	signal.Notify(stormSignals, syscall.SIGWINCH)
	// The driver's state, read by the storm without allocating (a
	// collection mid-case would start threads): the main thread's.
	stat, err := syscall.Open("/proc/self/stat", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		stat = -1
	}
	go stormThread(syscall.Getpid(), stat)
}

// Starts the storm; returns once it has sent its first signal.
func startStorm() {
	stormStopping.Store(false)
	stormStart <- struct{}{}
	<-stormStarted
}

// Stops the storm; returns once it has sent its last signal.
func stopStorm() {
	stormStopping.Store(true)
	<-stormStopped
}

func stormThread(driver int, stat int) {
	runtime.LockOSThread()
	var winch signalSet
	winch.add(int(syscall.SIGWINCH))
	setThreadMask(&winch)
	for range stormStart {
		syscall.Kill(-driver, syscall.SIGWINCH)
		stormStarted <- struct{}{}
		for !stormStopping.Load() {
			nap := stormInterval
			if driverState(stat) == 't' {
				nap = stormTracedNap
			}
			pause := syscall.NsecToTimespec(int64(nap))
			syscall.Nanosleep(&pause, nil)
			syscall.Kill(-driver, syscall.SIGWINCH)
		}
		stormStopped <- struct{}{}
	}
}

var statText [1024]byte

// The driver's scheduler state (after the last ')' of its stat): 't' while
// its tracer holds it.
func driverState(stat int) byte {
	if stat < 0 {
		return '?'
	}
	n, err := syscall.Pread(stat, statText[:], 0)
	if err != nil {
		return '?'
	}
	for i := n - 1; i >= 0; i-- {
		if statText[i] == ')' {
			if i+2 < n {
				return statText[i+2]
			}
			break
		}
	}
	return '?'
}
