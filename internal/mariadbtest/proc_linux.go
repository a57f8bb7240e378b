package mariadbtest

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// setDeathSignal makes the kernel SIGKILL the server when the test process
// dies without running its cleanups (a panic, a -timeout, a kill).
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// Pdeathsig fires when the thread that forked the child exits, not only the
// process; Go may end threads, so every server is forked from one goroutine
// locked to a thread that never exits.
var (
	forkRequests = make(chan forkRequest)
	forkerOnce   sync.Once
)

type forkRequest struct {
	cmd  *exec.Cmd
	done chan error
}

func startProcess(cmd *exec.Cmd) error {
	forkerOnce.Do(func() {
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for req := range forkRequests {
				req.done <- req.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	forkRequests <- forkRequest{cmd, done}
	return <-done
}
