package chaos

import (
	"fmt"
	"net/netip"
	"os/exec"
)

// Loopback is the Network of a machine without namespaces: every host is
// 127.0.0.1 (each process listens on its own port) and commands run in the
// suite's own network namespace. It cannot cut or impair links: Partition,
// Heal (with a partition to heal) and Impair (other than the zero
// Impairment) return ErrUnsupported.
type Loopback struct {
	hosts []Host
}

// NewLoopback returns a loopback Network with one host per name.
func NewLoopback(names []string) *Loopback {
	hs := make([]Host, len(names))
	for i, n := range names {
		hs[i] = Host{Name: n, IP: netip.MustParseAddr("127.0.0.1")}
	}
	return &Loopback{hosts: hs}
}

// Hosts returns the hosts, in the order of the names given to NewLoopback.
func (l *Loopback) Hosts() []Host { return append([]Host(nil), l.hosts...) }

// Command returns an unstarted command; every host runs on this machine's
// network.
func (l *Loopback) Command(host int, path string, args ...string) *exec.Cmd {
	if host < 0 || host >= len(l.hosts) {
		panic(fmt.Sprintf("chaos: loopback has no host %d", host)) // a bug of the caller
	}
	return exec.Command(path, args...)
}

// Partition returns ErrUnsupported: loopback cannot cut links.
func (l *Loopback) Partition(groups ...[]int) error {
	return fmt.Errorf("loopback partition: %w", ErrUnsupported)
}

// Unreachable returns ErrUnsupported: loopback cannot cut links.
func (l *Loopback) Unreachable(groups ...[]int) error {
	return fmt.Errorf("loopback unreachable: %w", ErrUnsupported)
}

// Heal does nothing: there is never a partition to heal.
func (l *Loopback) Heal() error { return nil }

// Impair accepts only the zero Impairment.
func (l *Loopback) Impair(im Impairment) error {
	if im != (Impairment{}) {
		return fmt.Errorf("loopback impairment: %w", ErrUnsupported)
	}
	return nil
}

// Close does nothing: loopback creates nothing.
func (l *Loopback) Close() error { return nil }
