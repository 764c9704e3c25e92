package transport

import (
	"log/slog"
	"time"

	"github.com/quic-go/quic-go"
)

// ALPN is the only application protocol a DartSync endpoint speaks.
const ALPN = "dartsync/1"

// Defaults used for zero Options fields.
const (
	DefaultKeepAlive          = 10 * time.Second
	DefaultIdleTimeout        = 30 * time.Second
	DefaultHandshakeTimeout   = 5 * time.Second
	DefaultStreamWindow       = 32 << 20 // max per-stream receive window; initial is half
	DefaultConnWindow         = 96 << 20 // max per-connection receive window; initial is half
	DefaultMaxIncomingStreams = 256
)

// Options tune a connection. The zero value means all defaults.
type Options struct {
	// KeepAlive is the period of keep-alive packets; 0 means
	// DefaultKeepAlive, negative disables keep-alives.
	KeepAlive time.Duration
	// IdleTimeout closes a connection after this long without any packet
	// from the other side; 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// HandshakeTimeout aborts a handshake when the other side is silent this
	// long, or when it has not completed within twice this; 0 means
	// DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// StreamWindow and ConnWindow are the largest receive windows (bytes per
	// stream and per connection); 0 means the defaults. A memory-constrained
	// node (the tracker) may lower them.
	StreamWindow, ConnWindow uint64
	// MaxIncomingStreams is how many concurrent streams the other side may
	// open; 0 means DefaultMaxIncomingStreams.
	MaxIncomingStreams int64
	// Log receives rejected handshakes (debug level); nil discards.
	Log *slog.Logger
}

func (o Options) quicConfig() *quic.Config {
	keep := o.KeepAlive
	switch {
	case keep == 0:
		keep = DefaultKeepAlive
	case keep < 0:
		keep = 0 // quic-go: no keep-alives
	}
	idle := o.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	hs := o.HandshakeTimeout
	if hs <= 0 {
		hs = DefaultHandshakeTimeout
	}
	sw := o.StreamWindow
	if sw == 0 {
		sw = DefaultStreamWindow
	}
	cw := o.ConnWindow
	if cw == 0 {
		cw = DefaultConnWindow
	}
	if cw < sw {
		cw = sw
	}
	ms := o.MaxIncomingStreams
	if ms <= 0 {
		ms = DefaultMaxIncomingStreams
	}
	return &quic.Config{
		HandshakeIdleTimeout:           hs,
		MaxIdleTimeout:                 idle,
		KeepAlivePeriod:                keep,
		InitialStreamReceiveWindow:     sw / 2,
		MaxStreamReceiveWindow:         sw,
		InitialConnectionReceiveWindow: cw / 2,
		MaxConnectionReceiveWindow:     cw,
		MaxIncomingStreams:             ms,
	}
}

func (o Options) log() *slog.Logger {
	if o.Log != nil {
		return o.Log
	}
	return slog.New(slog.DiscardHandler)
}
