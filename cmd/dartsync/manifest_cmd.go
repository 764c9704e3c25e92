package main

import (
	"context"
	"errors"
	"log/slog"
)

// manifestCmd is a placeholder until the manifest command lands; it is replaced, not extended.
type manifestCmd struct{}

func (manifestCmd) Run(ctx context.Context, log *slog.Logger) error {
	return errors.New("manifest: not built yet")
}
