// syscall.ForkExec with uid/gid maps opens /proc/<pid>/uid_map, setgroups
// and gid_map without O_CLOEXEC. A ForkExec that clones on another thread
// meanwhile (from Go 1.22 several ForkExecs hold ForkLock at once) gives
// its child that descriptor, and the child keeps it past exec. Several
// threads spawn /bin/cat with uid/gid maps at once; after each spawn the
// parent reads what its child's descriptors link to while cat waits on
// its standard input. Exit 1: a child held another spawn's map file (the
// bug); 0: none did in every spawn made; 2: the spawns could not run.
package main

import (
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	threads  = 8
	spawns   = 3000             // in all; about 1 in 50 shows the bug on a 2-core amd64
	deadline = 20 * time.Second // whichever comes first
)

var mapFile = regexp.MustCompile(`^/proc/\d+/(uid_map|gid_map|setgroups)$`)

// One spawn: cat with a pipe as its standard input, so it waits until the
// parent has read its descriptors. Returns what a descriptor above 2 of the
// child links to when it is a map file, else "".
func spawnAndInspect() (string, error) {
	var stdin [2]int
	if err := syscall.Pipe2(stdin[:], syscall.O_CLOEXEC); err != nil {
		return "", err
	}
	ids := []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
	gids := []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
	pid, err := syscall.ForkExec("/bin/cat", []string{"cat"}, &syscall.ProcAttr{
		Files: []uintptr{uintptr(stdin[0]), 1, 2},
		Sys:   &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER, UidMappings: ids, GidMappings: gids},
	})
	syscall.Close(stdin[0])
	if err != nil {
		syscall.Close(stdin[1])
		return "", err
	}
	found := ""
	entries, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	for _, entry := range entries {
		if fd, _ := strconv.Atoi(entry.Name()); fd > 2 {
			link, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + entry.Name())
			if mapFile.MatchString(link) {
				found = fmt.Sprintf("descriptor %d of child %d is %s", fd, pid, link)
			}
		}
	}
	syscall.Close(stdin[1]) // cat reads end-of-file and exits
	var status syscall.WaitStatus
	syscall.Wait4(pid, &status, 0, nil)
	return found, nil
}

func main() {
	if _, err := spawnAndInspect(); err != nil {
		fmt.Printf("ForkExec with CLONE_NEWUSER and uid/gid maps failed: %v; nothing shown\n", err)
		os.Exit(2)
	}
	var made atomic.Int64
	var leak, failure atomic.Value // the first of each, a string
	stop := time.Now().Add(deadline)
	var wg sync.WaitGroup
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			for leak.Load() == nil && failure.Load() == nil && made.Add(1) <= spawns && time.Now().Before(stop) {
				if found, err := spawnAndInspect(); err != nil {
					failure.CompareAndSwap(nil, "ForkExec: "+err.Error())
				} else if found != "" {
					leak.CompareAndSwap(nil, found)
				}
			}
		}()
	}
	wg.Wait()
	count := made.Load()
	if count > spawns {
		count = spawns
	}
	if found, ok := leak.Load().(string); ok {
		fmt.Printf("%s, after %d spawns\n", found, count)
		os.Exit(1)
	}
	if err, ok := failure.Load().(string); ok {
		fmt.Printf("%s, after %d spawns; nothing shown\n", err, count)
		os.Exit(2)
	}
	fmt.Printf("no child held a map file of another spawn in %d spawns\n", count)
}
