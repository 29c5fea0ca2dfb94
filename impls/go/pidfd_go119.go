//go:build !go1.22

// Before Go 1.22 syscall.ForkExec cannot return a pidfd: no pidfd in the
// hello, and a pidfd=1 case is refused.

package main

import "syscall"

const pidfdFeature = ""

func askForPidfd(*syscall.SysProcAttr, *int) bool { return false }
