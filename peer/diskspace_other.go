//go:build !unix

package peer

import "os"

// freeBytes returns -1 (unknown) where statfs is not available.
func freeBytes(string) int64 { return -1 }

// allocatedBytes returns fi's size.
func allocatedBytes(fi os.FileInfo) int64 { return fi.Size() }

// dirWritable passes: the write itself tells.
func dirWritable(string) error { return nil }
