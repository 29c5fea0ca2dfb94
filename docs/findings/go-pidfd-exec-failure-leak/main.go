// syscall.ForkExec asked for a pidfd (SysProcAttr.PidFD, Go 1.22 and later)
// keeps it open when the child fails before its exec: here its chdir, into
// a directory that does not exist. Exit 1: more descriptors open after the
// failed spawn than before (the bug); 0: none more; 2: the spawn did not
// fail, nothing shown.
package main

import (
	"fmt"
	"os"
	"syscall"
)

func main() {
	count := func() int { entries, _ := os.ReadDir("/proc/self/fd"); return len(entries) }
	count() // the first ReadDir may open the runtime's poller: count after it
	before := count()
	pidfd := -1
	_, err := syscall.ForkExec("/bin/true", []string{"true"}, &syscall.ProcAttr{
		Dir: "/nonexistent-directory-of-this-reproducer",
		Sys: &syscall.SysProcAttr{PidFD: &pidfd}})
	after := count()
	if err == nil {
		fmt.Println("ForkExec succeeded: nothing shown")
		os.Exit(2)
	}
	fmt.Printf("ForkExec: %v; pidfd %d; descriptors before %d, after %d\n", err, pidfd, before, after)
	if after > before {
		os.Exit(1)
	}
}
