package main

import (
	"context"
	"errors"
	"log/slog"
)

// trackerCmd is a placeholder until the tracker command lands; it is replaced, not extended.
type trackerCmd struct{}

func (trackerCmd) Run(ctx context.Context, log *slog.Logger) error {
	return errors.New("tracker: not built yet")
}
