//go:build unix && !linux

package awslocal

import "syscall"

// sysProcAttr puts moto in its own process group so Stop reaches every process it forks.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
