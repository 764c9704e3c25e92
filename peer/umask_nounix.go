//go:build !unix

package peer

import "os"

// processUmask: Windows has no umask (Go's os.Chmod there keeps only the
// read-only bit, which the mode of a synced file never sets).
func processUmask() os.FileMode { return defaultUmask }
