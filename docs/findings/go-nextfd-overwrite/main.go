// syscall.ForkExec's child moves its error pipe to one past the highest
// descriptor in Files (nextfd) with dup3(O_CLOEXEC), over whatever the
// process had there: a descriptor it inherited without close-on-exec is
// closed at exec, where every other such descriptor reaches the child.
// Exit 1: the descriptor at nextfd is lost in the child (the bug); 0: it
// is not; 2: inheritance itself did not work or setup failed, nothing shown.
package main

import (
	"fmt"
	"os"
	"syscall"
)

// Far above what the runtime opens, so that ForkExec's error pipe lies below them.
const (
	passed    = 100 // in Files, as the child's descriptor 3
	atNextfd  = 101 // one past the highest descriptor in Files: where ForkExec's child moves its error pipe
	elsewhere = 102 // a second inherited descriptor, the control
)

func isOpen(fd int) bool {
	var stat syscall.Stat_t
	return syscall.Fstat(fd, &stat) == nil
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		fmt.Printf("child: descriptor %d open: %v, descriptor %d open: %v\n", atNextfd, isOpen(atNextfd), elsewhere, isOpen(elsewhere))
		if !isOpen(elsewhere) {
			os.Exit(2) // inheritance itself did not work: nothing shown
		}
		if !isOpen(atNextfd) {
			os.Exit(1)
		}
		os.Exit(0)
	}
	null, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		panic(err)
	}
	// Without close-on-exec: inherited by every child, as a shell's descriptors are.
	for fd, flags := range map[int]int{passed: syscall.O_CLOEXEC, atNextfd: 0, elsewhere: 0} {
		if err := syscall.Dup3(null, fd, flags); err != nil {
			panic(err)
		}
	}
	self, _ := os.Executable()
	pid, err := syscall.ForkExec(self, []string{self, "child"}, &syscall.ProcAttr{Files: []uintptr{0, 1, 2, passed}})
	if err != nil {
		panic(err)
	}
	var status syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &status, 0, nil); err != nil {
		panic(err)
	}
	os.Exit(status.ExitStatus())
}
