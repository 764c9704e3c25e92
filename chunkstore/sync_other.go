//go:build !linux

package chunkstore

import "os"

// fdatasync flushes f (a full fsync where fdatasync is not available).
func fdatasync(f *os.File) error { return f.Sync() }

// syncFS is not available here: callers fsync file by file.
func syncFS(string) error { return errNoSyncFS }
