package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bin is the dartsync binary built by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dartsync-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "dartsync")
	build := exec.Command("go", "build", "-o", bin, "github.com/dartsync/dartsync/cmd/dartsync")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build dartsync:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is one running dartsync process.
type proc struct {
	t    testing.TB
	name string
	args []string
	cmd  *exec.Cmd
	log  *os.File
	done chan error
}

func start(t testing.TB, logDir, name string, args ...string) *proc {
	t.Helper()
	return startEnv(t, logDir, name, nil, args...)
}

// startEnv is start with env (KEY=VALUE) added to the process's
// environment.
func startEnv(t testing.TB, logDir, name string, env []string, args ...string) *proc {
	t.Helper()
	lf, err := os.OpenFile(filepath.Join(logDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	args = noDiscovery(args)
	fmt.Fprintf(lf, "==== start %s %s\n", name, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	// no user config file (dartsync peer's default config) leaks in
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(logDir, "no-user-config"))
	cmd.Env = append(cmd.Env, env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, name: name, args: args, cmd: cmd, log: lf, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { p.kill() })
	return p
}

// noDiscovery adds --no-discovery to a tracker's or a peer's arguments:
// these tests run outside a network namespace of their own, where LAN
// discovery would announce to (and look on) the machine's real network.
// TestDiscovery* start their processes in namespaces, elsewhere.
func noDiscovery(args []string) []string {
	if len(args) == 0 || slices.Contains(args, "--no-discovery") {
		return args
	}
	daemon := args[0] == "peer" || args[0] == "tracker" && (len(args) == 1 || strings.HasPrefix(args[1], "-"))
	if !daemon {
		return args
	}
	return append(slices.Clip(args), "--no-discovery")
}

// stop sends SIGTERM and waits; it fails the test unless the exit is clean.
func (p *proc) stop() {
	p.t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			p.t.Errorf("%s: exit after SIGTERM: %v (log %s)", p.name, err, p.log.Name())
		}
	case <-time.After(20 * time.Second):
		p.t.Errorf("%s: no exit 20 s after SIGTERM", p.name)
		p.kill()
	}
}

// kill sends SIGKILL and waits.
func (p *proc) kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Kill()
	err := <-p.done
	p.done <- err
	p.log.Close()
}

// exited returns the exit error once the process has ended.
func (p *proc) waitExit(d time.Duration) (error, bool) {
	select {
	case err := <-p.done:
		p.done <- err
		return err, true
	case <-time.After(d):
		return nil, false
	}
}

// freePort returns a port number free on both UDP and TCP (a node listens
// on both).
func freePort(t testing.TB) int {
	t.Helper()
	for range 20 {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		c.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no port number free on both UDP and TCP")
	return 0
}

// eventually polls cond until it reports true or the deadline passes; then
// it fails with cond's last explanation.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached after %v: %s", what, timeout, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tree maps folder-relative paths to "dir" or "file <exec> <sha256>".
type tree map[string]string

func readTree(root string) (tree, error) {
	out := tree{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if rel == ".dartsync" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			out[rel] = "dir"
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = fileEntry(b, fi.Mode()&0o100 != 0)
		return nil
	})
	return out, err
}

// fileEntry is a tree's entry for a file holding data.
func fileEntry(data []byte, exec bool) string {
	sum := sha256.Sum256(data)
	return fmt.Sprintf("file exec=%v %s", exec, hex.EncodeToString(sum[:8]))
}

// diff explains how got differs from want (empty if equal).
func diff(got, want tree) string {
	var lines []string
	for p, w := range want {
		if g, ok := got[p]; !ok {
			lines = append(lines, "missing "+p)
		} else if g != w {
			lines = append(lines, fmt.Sprintf("%s: %s, want %s", p, g, w))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			lines = append(lines, "extra "+p)
		}
	}
	sort.Strings(lines)
	if len(lines) > 8 {
		lines = append(lines[:8], fmt.Sprintf("… %d more", len(lines)-8))
	}
	return strings.Join(lines, "; ")
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t testing.TB, root, rel string, data []byte, perm os.FileMode) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, perm); err != nil {
		t.Fatal(err)
	}
}
