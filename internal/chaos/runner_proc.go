package chaos

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// proc is one dartsync process of the run (the tracker or a peer) across
// its restarts. Only the runner's goroutine that owns the cluster (the
// nemesis while it runs, then the checks) starts, signals and waits for it;
// the goroutine started by start waits for the process and owns nothing
// else (it ends when the process does).
type proc struct {
	name    string
	host    int
	args    []string
	logPath string

	cmd     *exec.Cmd
	exit    chan error // the process's Wait result, sent once
	ended   bool       // the current process has been waited for
	endErr  error
	killed  bool // ended by the nemesis's SIGKILL
	stopped bool // SIGSTOPped and not yet resumed
	starts  int
	crashes []string // exits nobody asked for
}

// start runs the process (again) on net, appending its output to its log.
func (p *proc) start(net Network, bin string, env []string) error {
	lf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	fmt.Fprintf(lf, "==== start %s %s\n", p.name, strings.Join(p.args, " "))
	cmd := net.Command(p.host, bin, p.args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = append(os.Environ(), env...)
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL // no process outlives a crashed suite
	if err := cmd.Start(); err != nil {
		lf.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	lf.Close() // the child holds its own descriptor
	p.cmd, p.exit, p.ended, p.endErr, p.killed, p.stopped = cmd, make(chan error, 1), false, nil, false, false
	p.starts++
	exit := p.exit
	go func() { exit <- cmd.Wait() }()
	return nil
}

// running reports whether the process has not ended; an exit nobody asked
// for is recorded as a crash.
func (p *proc) running() bool {
	if p.cmd == nil || p.ended {
		return false
	}
	select {
	case err := <-p.exit:
		p.ended, p.endErr = true, err
		if !p.killed {
			p.crashes = append(p.crashes, fmt.Sprintf("%s exited by itself: %v", p.name, err))
		}
		return false
	default:
		return true
	}
}

// kill sends SIGKILL (after SIGCONT if stopped) and waits.
func (p *proc) kill() {
	if !p.running() {
		return
	}
	p.killed = true
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	p.endErr, p.ended = <-p.exit, true
	p.stopped = false
}

// signal sends sig to the running process.
func (p *proc) signal(sig syscall.Signal) error {
	if !p.running() {
		return fmt.Errorf("%s is not running", p.name)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal %s: %w", p.name, err)
	}
	switch sig {
	case syscall.SIGSTOP:
		p.stopped = true
	case syscall.SIGCONT:
		p.stopped = false
	}
	return nil
}

// terminate sends SIGTERM and waits up to d; a clean exit is nil.
func (p *proc) terminate(d time.Duration) error {
	if !p.running() {
		return nil
	}
	if p.stopped {
		_ = p.signal(syscall.SIGCONT)
	}
	p.killed = true // asked for: not a crash
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exit:
		p.ended, p.endErr = true, err
		if err != nil {
			return fmt.Errorf("%s: exit after SIGTERM: %w", p.name, err)
		}
		return nil
	case <-time.After(d):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		p.endErr, p.ended = <-p.exit, true
		return fmt.Errorf("%s: %w", p.name, errNoExit)
	}
}

var errNoExit = errors.New("no exit after SIGTERM")
