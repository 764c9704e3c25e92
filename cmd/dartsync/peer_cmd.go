package main

import (
	"context"
	"errors"
	"log/slog"
)

// peerCmd is a placeholder until the peer command lands; it is replaced, not extended.
type peerCmd struct{}

func (peerCmd) Run(ctx context.Context, log *slog.Logger) error {
	return errors.New("peer: not built yet")
}
