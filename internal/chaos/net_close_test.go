package chaos

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"testing"
)

func TestLANCloseRemovesNamespaces(t *testing.T) {
	if err := LANAvailable(); err != nil {
		t.Skip(err)
	}
	// A leftover of a process that no longer exists, as a killed run leaves.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	leftover := newLANPrefixForPID(dead.Process.Pid) + "rt"
	if err := runIP(context.Background(), "ip", "", "netns", "add", leftover); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteNamespace("ip", leftover) })

	l, err := NewLAN(context.Background(), LANConfig{Hosts: []string{"tracker", "peer1", "peer2"}})
	if errors.Is(err, ErrNoNamespaces) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/run/netns/" + leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover namespace %s not removed by NewLAN (%v)", leftover, err)
	}
	if got := namespacesWithPrefix(t, l.prefix); len(got) != 4 {
		t.Errorf("namespaces %v, want a router and 3 hosts", got)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := namespacesWithPrefix(t, l.prefix); len(got) != 0 {
		t.Errorf("namespaces left after Close: %v", got)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := l.Partition([]int{0}, []int{1}); err == nil {
		t.Error("Partition after Close: no error")
	}
}

// TestLANCloseAfterFailedBuild: NewLAN fails half-way (a host's namespace
// name is taken) and Close removes what was made, and only that.
func TestLANCloseAfterFailedBuild(t *testing.T) {
	if err := LANAvailable(); err != nil {
		t.Skip(err)
	}
	l := &LAN{prefix: newLANPrefix(), ip: "ip", log: slog.New(slog.DiscardHandler)}
	taken := l.prefix + "h1-b"
	if err := runIP(context.Background(), "ip", "", "netns", "add", taken); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteNamespace("ip", taken) })
	if _, _, err := l.build(context.Background(), []string{"a", "b", "c"}); err == nil {
		t.Fatal("build over a taken namespace name: no error")
	}
	if got := namespacesWithPrefix(t, l.prefix); len(got) != 3 {
		t.Errorf("after the failed build: %v, want router, host a and the taken name", got)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := namespacesWithPrefix(t, l.prefix); !slices.Equal(got, []string{taken}) {
		t.Errorf("after Close: %v, want only %s (not the LAN's)", got, taken)
	}
}
