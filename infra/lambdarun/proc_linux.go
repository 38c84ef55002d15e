package lambdarun

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// sysProcAttr puts the emulator in its own process group and has the kernel
// kill it if the calling process dies without Stop (a panic, a test timeout).
// The runtime it starts then finds its Runtime API gone and exits.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// proc identifies a process across pid reuse by its start time.
type proc struct {
	pid   int
	start string
}

// childProcesses lists the direct children of pid from /proc.
func childProcesses(pid int) []proc {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []proc
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, start, _, ok := readStat(p)
		if ok && ppid == pid {
			out = append(out, proc{pid: p, start: start})
		}
	}
	return out
}

// alive reports whether the process still runs (a zombie does not).
func (p proc) alive() bool {
	_, start, state, ok := readStat(p.pid)
	return ok && start == p.start && state != "Z" && state != "X"
}

// readStat returns the parent pid, start time and state from /proc/<pid>/stat.
func readStat(pid int) (ppid int, start, state string, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, "", "", false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces and ')'
	if i < 0 {
		return 0, "", "", false
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 20 {
		return 0, "", "", false
	}
	ppid, err = strconv.Atoi(f[1])
	if err != nil {
		return 0, "", "", false
	}
	return ppid, f[19], f[0], true // f[19] is field 22, starttime
}
