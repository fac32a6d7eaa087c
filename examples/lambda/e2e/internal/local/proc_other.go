//go:build !linux

package local

import (
	"os"
	"syscall"
)

// The Runtime Interface Emulator runs on Linux only; elsewhere this
// package still builds, and the suite skips (FindTools finds no RIE that
// can run).
func sysProcAttr() *syscall.SysProcAttr { return nil }

func terminate(p *os.Process) { _ = p.Signal(os.Interrupt) }

func kill(p *os.Process) { _ = p.Kill() }
