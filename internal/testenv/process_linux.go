//go:build linux

package testenv

import (
	"os"
	"syscall"
)

// sysProcAttr puts the child in its own process group, so that stop can
// signal everything it spawned and a Ctrl-C aimed at the test run's group is
// not delivered to it twice, and asks the kernel to SIGKILL it when the
// thread that started it dies: a test binary that crashes, times out or is
// killed -9 must not leave a Java or Node server running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// terminate asks the child's process group to shut down.
func terminate(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGTERM) }

// kill forcibly ends the child's process group.
func kill(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }
