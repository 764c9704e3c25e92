//go:build !linux

package tracker

import bolt "go.etcd.io/bbolt"

// releaseMapped is a no-op where the kernel interface is not wired up.
func (s *store) releaseMapped() error { return nil }

// releaseMappedTx is a no-op where the kernel interface is not wired up.
func releaseMappedTx(*bolt.DB, *bolt.Tx) error { return nil }
