package benchmarks

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// startChild starts this test binary again, running only test (a child
// role that skips itself without env), with env added to its environment.
// It returns the child and the rest of the first line it prints that
// starts with "listening ". The child serves until its standard input
// closes, which the benchmark's cleanup does; the cleanup then waits for
// it (killing it after 10 s). A reader goroutine owns the child's standard
// output until the child exits; the cleanup waits for it before Wait, as
// os/exec requires.
func startChild(b *testing.B, test, env string) (*exec.Cmd, string) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	lines := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				select {
				case lines <- a:
				default:
				}
			}
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	b.Cleanup(func() {
		_ = stdin.Close()
		select {
		case <-drained:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-drained
		}
		_ = cmd.Wait()
	})
	select {
	case l, ok := <-lines:
		if !ok {
			b.Fatalf("%s exited before listening", test)
		}
		return cmd, l
	case <-time.After(60 * time.Second):
		b.Fatalf("%s did not start", test)
	}
	return nil, ""
}
