package chaos

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// nsPrefix starts the name of every namespace the suite makes.
const nsPrefix = "dsc-"

// LANAvailable reports, wrapped in ErrNoNamespaces, why this machine cannot
// make a LAN; nil when it can. It checks for root, the ip command,
// /dev/net/tun, and that this process may create a network namespace (it
// makes one on a spare thread and leaves it at once).
func LANAvailable() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: not root", ErrNoNamespaces)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("%w: no ip command: %v", ErrNoNamespaces, err)
	}
	tun, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoNamespaces, err)
	}
	tun.Close()
	if err := probeUnshare(); err != nil {
		return fmt.Errorf("%w: %v", ErrNoNamespaces, err)
	}
	return nil
}

// probeUnshare makes a network namespace on a locked thread and returns to
// the thread's own one (the new namespace disappears with its last user).
func probeUnshare() error {
	return onOtherNetns(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare network namespace: %w", err)
		}
		return nil
	}, func() error { return nil })
}

func checkHostNames(names []string) error {
	if len(names) == 0 || len(names) > maxLANHosts {
		return fmt.Errorf("chaos lan: %d hosts, want 1 to %d", len(names), maxLANHosts)
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if !validHostName(n) {
			return fmt.Errorf("chaos lan: host name %q: want 1 to 32 of [A-Za-z0-9_-]", n)
		}
		if seen[n] {
			return fmt.Errorf("chaos lan: host name %q given twice", n)
		}
		seen[n] = true
	}
	return nil
}

func validHostName(n string) bool {
	if len(n) == 0 || len(n) > 32 {
		return false
	}
	for _, c := range n {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// lanAddr is host i's address: 10.77.0.i+1 in 10.77.0.0/24. Namespaces
// keep LANs apart, so every LAN uses the same addresses.
func lanAddr(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 77, 0, byte(i + 1)}) }

// newLANPrefix returns "dsc-PID-RANDOM-": unique per LAN, and naming the
// process that owns it so that leftovers can be recognised.
func newLANPrefix() string { return newLANPrefixForPID(os.Getpid()) }

func newLANPrefixForPID(pid int) string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return fmt.Sprintf("%s%d-%s-", nsPrefix, pid, hex.EncodeToString(b[:]))
}

// build makes the router and host namespaces and one TUN per host (born in
// the router namespace, then moved into its host's); it records what it
// made in l.made and l.hosts. On error the TUN files it opened are closed.
func (l *LAN) build(ctx context.Context, names []string) (ports []packetPort, addrs []netip.Addr, err error) {
	defer func() {
		if err != nil {
			for _, p := range ports {
				p.Close()
			}
			ports = nil
		}
	}()
	router := l.prefix + "rt"
	if err := l.addNamespace(ctx, router); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrNoNamespaces, err) // the first one: none can be made
	}
	var moves strings.Builder
	for i, name := range names {
		h := Host{Name: name, NS: fmt.Sprintf("%sh%d-%s", l.prefix, i, name), IP: lanAddr(i)}
		if err := l.addNamespace(ctx, h.NS); err != nil {
			return ports, nil, err
		}
		l.hosts = append(l.hosts, h)
		tun := fmt.Sprintf("dsc%d", i)
		f, err := openTUN(router, tun)
		if err != nil && i == 0 { // the first one: no TUN device can be made
			return ports, nil, fmt.Errorf("%w: host %s: %v", ErrNoNamespaces, name, err)
		}
		if err != nil {
			return ports, nil, fmt.Errorf("chaos lan: host %s: %w", name, err)
		}
		ports = append(ports, f)
		addrs = append(addrs, h.IP)
		fmt.Fprintf(&moves, "link set dev %s netns %s\n", tun, h.NS)
	}
	if err := runIP(ctx, l.ip, moves.String(), "-n", router, "-batch", "-"); err != nil {
		return ports, nil, err
	}
	for i, h := range l.hosts {
		setup := fmt.Sprintf("link set dev lo up\n"+
			"link set dev dsc%d name lan0\n"+
			"link set dev lan0 mtu 1500 addrgenmode none\n"+
			"addr add %s/24 dev lan0\n"+
			"link set dev lan0 up\n", i, h.IP)
		if err := runIP(ctx, l.ip, setup, "-n", h.NS, "-batch", "-"); err != nil {
			return ports, nil, err
		}
	}
	return ports, addrs, nil
}

func (l *LAN) addNamespace(ctx context.Context, ns string) error {
	if err := runIP(ctx, l.ip, "", "netns", "add", ns); err != nil {
		return err
	}
	l.mu.Lock()
	l.made = append(l.made, ns)
	l.mu.Unlock()
	return nil
}

// runIP runs the ip command with args (and stdin, for -batch -).
func runIP(ctx context.Context, ipPath, stdin string, args ...string) error {
	cmd := exec.CommandContext(ctx, ipPath, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("chaos lan: ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// deleteNamespace deletes a namespace; one already gone is not an error.
func deleteNamespace(ipPath, ns string) error {
	if _, err := os.Stat("/run/netns/" + ns); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return runIP(ctx, ipPath, "", "netns", "delete", ns)
}

// removeLeftoverNamespaces deletes the namespaces of LANs whose process no
// longer exists (a run killed before Close). Failures are only logged.
func removeLeftoverNamespaces(ctx context.Context, ipPath string, log *slog.Logger) {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return // none made yet
	}
	for _, e := range entries {
		pid, ok := namespaceOwner(e.Name())
		if !ok || pid == os.Getpid() {
			continue
		}
		if err := unix.Kill(pid, 0); err == nil || errors.Is(err, unix.EPERM) {
			continue // its process is alive
		}
		if ctx.Err() != nil {
			return
		}
		if err := deleteNamespace(ipPath, e.Name()); err != nil {
			log.Warn("chaos lan: leftover namespace not deleted", "ns", e.Name(), "err", err)
			continue
		}
		log.Info("chaos lan: deleted leftover namespace", "ns", e.Name())
	}
}

// namespaceOwner returns the PID in a suite namespace's name.
func namespaceOwner(ns string) (int, bool) {
	rest, ok := strings.CutPrefix(ns, nsPrefix)
	if !ok {
		return 0, false
	}
	pidStr, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(pidStr)
	return pid, err == nil && pid > 0
}
