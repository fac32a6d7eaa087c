//go:build !linux

package testenv

import (
	"os"
	"syscall"
)

// sysProcAttr returns nil: outside Linux there is no parent-death signal. The
// fauxqs launcher still exits when its stdin closes (see StartFauxqs), but a
// DynamoDB Local started by a test binary that is killed outright can outlive
// it there; `make test` starts the servers itself and always stops them.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// terminate asks the child to shut down; os.Interrupt is not deliverable on
// Windows, where this falls back to killing it.
func terminate(p *os.Process) {
	if err := p.Signal(os.Interrupt); err != nil {
		_ = p.Kill()
	}
}

// kill forcibly ends the child.
func kill(p *os.Process) { _ = p.Kill() }
