// syscall.ForkExec with uid/gid maps leaks the maps' pipe when clone fails.
// CLONE_NEWUSER|CLONE_FS is always EINVAL (clone(2)), so clone fails here
// with or without privileges. Exit 1: descriptors leaked (the bug);
// 0: none; 2: clone did not fail, nothing shown.
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
	ids := []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
	_, err := syscall.ForkExec("/bin/true", []string{"true"}, &syscall.ProcAttr{Sys: &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_FS, UidMappings: ids, GidMappings: ids}})
	after := count()
	fmt.Printf("ForkExec: %v; descriptors before %d, after %d\n", err, before, after)
	if err == nil {
		os.Exit(2)
	}
	if after > before {
		os.Exit(1)
	}
}
