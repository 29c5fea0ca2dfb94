//go:build go1.22

// Go 1.22 added syscall.SysProcAttr.PidFD (CLONE_PIDFD on the clone):
// this driver then takes pidfd=1 and says so in its hello.

package main

import "syscall"

const pidfdFeature = ",pidfd"

// askForPidfd has ForkExec store the child's pidfd in *pidfd.
func askForPidfd(attr *syscall.SysProcAttr, pidfd *int) bool {
	attr.PidFD = pidfd
	return true
}
