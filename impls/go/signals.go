// The parent's signal state of a case (sigmask, sigignore, sighandle;
// docs/protocol.md), set the way a Go program sets it. The mask: of this
// locked thread, by rt_sigprocmask (Go has no API for it); ForkExec hands
// the calling thread's mask to the child (runtime BeforeFork saves it, the
// child restores it). Dispositions: through os/signal; the child keeps what
// signal.Ignore set and resets what signal.Notify handles
// (runtime.clearSignalHandlers). So the contract is POSIX's.
package main

import (
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"unsafe"
)

// SIGCHLD: the driver waits for its children. SIGPROF: signal.Ignore and
// signal.Notify leave it to the runtime's profiler. SIGWINCH: the storm's.
var signalsKept = []int{int(syscall.SIGCHLD), int(syscall.SIGPROF), int(syscall.SIGWINCH)}

// The kernel's signal count and SIG_SETMASK: mips has 128 signals and its own numbers.
func signalCount() int {
	if runtime.GOARCH == "mips64le" {
		return 128
	}
	return 64
}

func sigSetmask() uintptr {
	if runtime.GOARCH == "mips64le" {
		return 3
	}
	return 2
}

// The kernel's sigset_t: signal n at bit n-1. 64-bit words lay it out right
// on every architecture here (the 32-bit ones are little endian).
type signalSet [2]uint64

func (s *signalSet) add(n int) { s[(n-1)/64] |= 1 << uint((n-1)%64) }

type parentSignals struct {
	present        bool
	mask           signalSet
	ignore, handle []int
}

// A number list of signals, each 1..signalCount().
func parseSignals(value []byte) ([]int, bool) {
	numbers, ok := decodeNumbers(value, 128)
	if !ok {
		return nil, false
	}
	for _, n := range numbers {
		if n < 1 || n > signalCount() {
			return nil, false
		}
	}
	return numbers, true
}

// Why this driver cannot take the state, or "".
func refuseSignals(p *parentSignals) string {
	fixed := map[int]bool{int(syscall.SIGKILL): true, int(syscall.SIGSTOP): true}
	for _, n := range signalsKept {
		fixed[n] = true
	}
	ignored := map[int]bool{}
	for _, n := range p.ignore {
		ignored[n] = true
	}
	for _, n := range append(append([]int{}, p.ignore...), p.handle...) {
		if fixed[n] {
			return "signal state: a disposition for SIGKILL, SIGSTOP or a signal of signals_kept"
		}
	}
	for _, n := range p.handle {
		if ignored[n] {
			return "signal state: a signal both ignored and handled"
		}
	}
	return ""
}

func setThreadMask(set *signalSet) (old signalSet, errno syscall.Errno) {
	_, _, errno = syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, sigSetmask(), uintptr(unsafe.Pointer(set)), uintptr(unsafe.Pointer(&old)), uintptr(signalCount()/8), 0, 0)
	return old, errno
}

// Where sighandle signals go: nobody reads it, Notify drops what does not fit.
var handledSignals = make(chan os.Signal, 1)

func asSignals(numbers []int) []os.Signal {
	out := make([]os.Signal, len(numbers))
	for i, n := range numbers {
		out[i] = syscall.Signal(n)
	}
	return out
}

// Sets the case's state; the function returned puts the driver's own back.
// Every os/signal call is guarded: with no signals, each acts on all of them.
func applySignals(p *parentSignals) (func(), syscall.Errno) {
	old, errno := setThreadMask(&p.mask)
	if errno != 0 {
		return nil, errno
	}
	ignored, handled := asSignals(p.ignore), asSignals(p.handle)
	if len(ignored) > 0 {
		signal.Ignore(ignored...)
	}
	if len(handled) > 0 {
		signal.Notify(handledSignals, handled...)
	}
	return func() {
		// Reset alone leaves a signal Ignore took at SIG_IGN; Notify first
		// gives it the runtime's handler back, which Reset then keeps. Not
		// for SIGHUP and SIGINT: once ignored, the runtime takes SIG_IGN as
		// inherited and goes back to it (sigInstallGoHandler). A later case
		// that names them sets them again; one that does not, does not
		// judge them (docs/protocol.md).
		if len(ignored) > 0 {
			signal.Notify(handledSignals, ignored...)
		}
		if all := append(ignored, handled...); len(all) > 0 {
			signal.Reset(all...)
		}
		setThreadMask(&old)
	}, 0
}
