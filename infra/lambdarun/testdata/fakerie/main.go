// Command fakerie is a test-only stand-in for aws-lambda-rie in infra/lambdarun's tests of
// Function.Stop: it accepts connections on --runtime-interface-emulator-address like the
// emulator, but ignores SIGTERM and starts a "runtime" child in a session of its own that
// ignores SIGTERM too, the worst an emulator can leave behind. It never runs the bootstrap.
package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	signal.Ignore(syscall.SIGTERM)
	if len(os.Args) > 1 && os.Args[1] == "child" {
		for {
			time.Sleep(time.Hour)
		}
	}
	var addr string
	for i, a := range os.Args {
		if a == "--runtime-interface-emulator-address" && i+1 < len(os.Args) {
			addr = os.Args[i+1]
		}
	}
	child := exec.Command(os.Args[0], "child")
	child.Stdout, child.Stderr = os.Stdout, os.Stderr // holds the log pipe, as a runtime does
	child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := child.Start(); err != nil {
		fmt.Println("fakerie:", err)
		os.Exit(1)
	}
	fmt.Printf("fakerie child=%d\n", child.Process.Pid)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Println("fakerie:", err)
		os.Exit(1)
	}
	for {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
	}
}
