//go:build !linux

package mariadbtest

import "os/exec"

func setDeathSignal(cmd *exec.Cmd) {}

func startProcess(cmd *exec.Cmd) error { return cmd.Start() }
