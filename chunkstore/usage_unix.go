//go:build unix

package chunkstore

import (
	"io/fs"
	"syscall"
)

// diskUsage returns the disk space a file takes: its allocated blocks (a
// partial download is sparse until complete), else its size.
func diskUsage(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return fi.Size()
}
