package awslocal

import "syscall"

// sysProcAttr puts moto in its own process group (so Stop reaches every process it forks)
// and has the kernel kill it if the test binary dies without calling Stop (a panic or a
// `go test -timeout` abort), so no moto_server is ever left behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
