package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// vlan is a virtual LAN of network namespaces made for one test: a bridge
// in a namespace of its own and one namespace per host, joined to the
// bridge by a veth pair. Each host has one address on 10.79.0.0/24 (host i
// is 10.79.0.(i+1)) and only the connected route: no default route, as on
// a LAN without a gateway, where a send to 255.255.255.255 fails.
type vlan struct {
	t      *testing.T
	prefix string   // every namespace's name starts with it
	hosts  []string // namespace of host i
}

// newVLAN makes a LAN of n hosts, removed at the end of the test; it skips
// the test where namespaces cannot be made (not root, no ip command).
func newVLAN(t *testing.T, n int) *vlan {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip command")
	}
	var r [3]byte
	_, _ = rand.Read(r[:])
	l := &vlan{t: t, prefix: fmt.Sprintf("dsd-%d-%s", os.Getpid(), hex.EncodeToString(r[:]))}
	br := l.prefix + "-br"
	if out, err := exec.Command("ip", "netns", "add", br).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace: %v: %s", err, out)
	}
	t.Cleanup(l.close)
	if out, err := exec.Command("ip", "-n", br, "link", "add", "br0", "type", "bridge").CombinedOutput(); err != nil {
		t.Skipf("cannot make a bridge: %v: %s", err, out)
	}
	l.ip("-n", br, "link", "set", "br0", "up")
	for i := range n {
		ns := fmt.Sprintf("%s-h%d", l.prefix, i)
		l.ip("netns", "add", ns)
		l.hosts = append(l.hosts, ns)
		port := fmt.Sprintf("p%d", i)
		if out, err := exec.Command("ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", port, "netns", br).CombinedOutput(); err != nil {
			t.Skipf("cannot make a veth pair: %v: %s", err, out)
		}
		l.ip("-n", br, "link", "set", port, "master", "br0")
		l.ip("-n", br, "link", "set", port, "up")
		l.ip("-n", ns, "link", "set", "lo", "up")
		l.ip("-n", ns, "addr", "add", l.addr(i)+"/24", "dev", "eth0")
		l.ip("-n", ns, "link", "set", "eth0", "up")
	}
	return l
}

// addr is host i's first address.
func (l *vlan) addr(i int) string { return fmt.Sprintf("10.79.0.%d", i+1) }

// ip runs the ip command; a failure fails the test.
func (l *vlan) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// readdress replaces host i's address old with new (a DHCP lease that changed).
func (l *vlan) readdress(i int, old, new string) {
	l.t.Helper()
	l.ip("-n", l.hosts[i], "addr", "del", old+"/24", "dev", "eth0")
	l.ip("-n", l.hosts[i], "addr", "add", new+"/24", "dev", "eth0")
}

func (l *vlan) close() {
	for _, ns := range append(l.hosts, l.prefix+"-br") {
		_ = exec.Command("ip", "netns", "delete", ns).Run()
	}
}

// start runs dartsync with args on host i, logging to logDir/name.log, as
// start does on the test's own network (without --no-discovery).
func (l *vlan) start(i int, logDir, name string, args ...string) *proc {
	t := l.t
	t.Helper()
	lf, err := os.OpenFile(filepath.Join(logDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(lf, "==== start %s on %s: %s\n", name, l.hosts[i], strings.Join(args, " "))
	cmd := exec.Command("ip", append([]string{"netns", "exec", l.hosts[i], bin}, args...)...) // ip execs bin: the pid is dartsync's
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = []string{"XDG_CONFIG_HOME=" + filepath.Join(logDir, "no-user-config")}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DARTSYNC_NO_DISCOVERY=") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, name: name, args: args, cmd: cmd, log: lf, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { p.kill() })
	return p
}
