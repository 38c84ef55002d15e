//go:build !linux

package lambdarun

import "syscall"

// sysProcAttr puts the emulator in its own process group.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

type proc struct{ pid int }

// childProcesses is not available without /proc; Stop then relies on the
// emulator killing its runtime on SIGTERM.
func childProcesses(int) []proc { return nil }

func (proc) alive() bool { return false }
