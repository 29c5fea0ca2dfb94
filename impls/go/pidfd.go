// What the driver makes of a pidfd case (docs/protocol.md, pidfd=1):
// whether the pidfd refers to the child, judged from /proc/self/fdinfo
// and waitid(P_PIDFD), not from what ForkExec said.

package main

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"
)

const (
	pPidfd     = 3 // waitid's P_PIDFD
	cldExited  = 1 // siginfo si_code of a child that exited
	siginfoLen = 128
)

// siginfo_t: si_signo, si_errno, si_code (mips swaps the last two), then,
// after padding to 8 on 64-bit, si_pid, si_uid, si_status.
func siginfoOffsets() (code, pid int) {
	code, pid = 8, 12
	if runtime.GOARCH == "mips64le" {
		code = 4
	}
	if wordBytes == 8 {
		pid = 16
	}
	return code, pid
}

// pidfdTargetPid: the "Pid:" line of the descriptor's fdinfo (only a
// pidfd has one), and whether there was one.
func pidfdTargetPid(fd int) (int, bool) {
	text, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return 0, false
	}
	for _, line := range bytes.Split(text, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("Pid:")) { // bytes.CutPrefix is Go 1.20: this builds with 1.19
			pid, err := strconv.Atoi(string(bytes.TrimSpace(line[len("Pid:"):])))
			return pid, err == nil
		}
	}
	return 0, false
}

// returnedDescriptorState: what a number a failed spawn handed back is,
// right after it returned: "closed", "pidfd" or "other" (open, not a pidfd).
func returnedDescriptorState(fd int) string {
	if _, _, e := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0); e != 0 {
		return "closed"
	}
	if _, isPidfd := pidfdTargetPid(fd); isPidfd {
		return "pidfd"
	}
	return "other"
}

func countOpenPidfds() int {
	fds, _ := listOpenDescriptors()
	count := 0
	for _, fd := range fds {
		if _, isPidfd := pidfdTargetPid(fd); isPidfd {
			count++
		}
	}
	return count
}

// reapThroughPidfd: waitid(P_PIDFD, fd, WEXITED); the reaped pid and its
// status in wait4's encoding, or the errno.
func reapThroughPidfd(fd int) (int, uint32, syscall.Errno) {
	var info [siginfoLen]byte
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_WAITID, pPidfd, uintptr(fd), uintptr(unsafe.Pointer(&info[0])), syscall.WEXITED, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, 0, e
		}
		break
	}
	word := func(at int) int32 { return *(*int32)(unsafe.Pointer(&info[at])) }
	codeOffset, pidOffset := siginfoOffsets()
	code, value := word(codeOffset), uint32(word(pidOffset+8))
	status := value & 0x7f
	if code == cldExited {
		status = (value & 0xff) << 8
	}
	return int(word(pidOffset)), status, 0
}
