//go:build !linux

package tracker

// releaseMapped is a no-op where the kernel interface is not wired up.
func (s *store) releaseMapped() error { return nil }
