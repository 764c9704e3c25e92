package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/dartsync/dartsync/tracker"
	"github.com/dartsync/dartsync/tracker/dashboard"
)

// defaultTrackerHTTP is where the tracker's dashboard and metrics listen
// unless --http says otherwise.
const defaultTrackerHTTP = "127.0.0.1:7080"

// httpShutdown bounds the dashboard's shutdown (open requests finish).
const httpShutdown = 2 * time.Second

// trackerHTTP is the tracker's dashboard server, or nothing (--http off, or
// the default address taken).
type trackerHTTP struct {
	srv  *http.Server
	addr net.Addr
	done chan error
}

// startTrackerHTTP makes the admin secret (first start) and starts the
// dashboard on flag's address. flag nil: defaultAddr, and a taken default
// only warns; "" or "off": no dashboard (and no secret is made).
func startTrackerHTTP(flag *string, defaultAddr, state string, srv *tracker.Server, log *slog.Logger) (*trackerHTTP, error) {
	addr, explicit := defaultAddr, false
	if flag != nil {
		addr, explicit = strings.TrimSpace(*flag), true
	}
	if addr == "" || strings.EqualFold(addr, "off") {
		log.Info("dashboard off (--http off)")
		return &trackerHTTP{}, nil
	}
	secret, err := dashboard.LoadOrCreateSecret(state)
	if err != nil {
		return nil, err
	}
	h, err := dashboard.New(dashboard.Config{Source: srv.Overview(), Secret: secret, Version: version, Log: log})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if !explicit {
			log.Warn("dashboard off: its default address is taken (choose one with --http ADDR)", "addr", addr, "err", err)
			return &trackerHTTP{}, nil
		}
		return nil, withExitCode(2, fmt.Errorf("--http %s: %w", addr, err))
	}
	t := &trackerHTTP{
		srv:  &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute},
		addr: ln.Addr(),
		done: make(chan error, 1),
	}
	go func() { t.done <- t.srv.Serve(ln) }() // owned by t: close waits for it
	log.Info("dashboard serving", "url", "http://"+ln.Addr().String()+"/", "metrics", "http://"+ln.Addr().String()+"/metrics",
		"admin_secret_file", filepath.Join(state, dashboard.SecretFile))
	return t, nil
}

// close stops the dashboard and waits for its goroutine.
func (t *trackerHTTP) close() error {
	if t == nil || t.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), httpShutdown)
	defer cancel()
	err := t.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, t.srv.Close())
	}
	if serr := <-t.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	return nil
}
