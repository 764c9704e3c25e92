//go:build !unix

package chunkstore

// syncDir is a no-op where directories cannot be fsynced (Windows).
func syncDir(string) error { return nil }
