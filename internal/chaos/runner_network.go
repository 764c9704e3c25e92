package chaos

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
)

// newNetwork returns the run's Network and its kind: the namespace LAN
// (its log in dir/lan.log) where it can be made, else loopback (no network
// faults).
func newNetwork(ctx context.Context, dir string, names []string, seed int64, logf func(string, ...any)) (Network, string) {
	lf, err := os.Create(filepath.Join(dir, "lan.log"))
	if err != nil {
		logf("namespace LAN log: %v: loopback, no network faults", err)
		return NewLoopback(names), "loopback"
	}
	lan, err := NewLAN(ctx, LANConfig{Hosts: names, Seed: seed, Log: slog.New(slog.NewTextHandler(lf, nil))})
	if err != nil {
		lf.Close()
		if !errors.Is(err, ErrNoNamespaces) {
			logf("namespace LAN: %v", err)
		}
		logf("namespace LAN not available (%v): loopback, no network faults", err)
		return NewLoopback(names), "loopback"
	}
	return &lanLog{LAN: lan, log: lf}, "lan"
}

// lanLog is a LAN that closes its log file with it.
type lanLog struct {
	*LAN
	log *os.File
}

func (l *lanLog) Close() error { return errors.Join(l.LAN.Close(), l.log.Close()) }
