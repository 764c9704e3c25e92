package main

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"net"
	"net/netip"
	"sync"

	"github.com/dartsync/dartsync/internal/discovery"
	"github.com/dartsync/dartsync/internal/identity"
)

// startAnnouncer announces the tracker listening at addr on the local
// network (internal/discovery) until stop is called; stop waits for it.
// Nothing runs when off (--no-discovery) or the tracker listens on a
// loopback address only.
func startAnnouncer(ctx context.Context, off bool, id *identity.Identity, addr net.Addr, log *slog.Logger) (stop func()) {
	ap, err := netip.ParseAddrPort(addr.String())
	key, ok := id.Cert.PrivateKey.(ed25519.PrivateKey)
	if off || err != nil || !ok || ap.Addr().IsLoopback() {
		if !off {
			log.Info("not announcing the tracker on the local network", "listen", addr.String())
		}
		return func() {}
	}
	var only netip.Addr
	if !ap.Addr().IsUnspecified() {
		only = ap.Addr().Unmap()
	}
	a, err := discovery.NewAnnouncer(discovery.AnnouncerConfig{Key: key, Port: int(ap.Port()), Only: only, Log: log})
	if err != nil {
		log.Warn("LAN discovery off", "err", err)
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = a.Run(ctx) // logs its own trouble; the tracker works without it
	}()
	return func() { cancel(); wg.Wait() }
}
