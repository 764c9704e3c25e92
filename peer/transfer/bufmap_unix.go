//go:build unix

package transfer

import "golang.org/x/sys/unix"

// mapBuf returns n bytes of anonymous memory mapped outside the Go heap,
// or heap memory when the mapping is refused (unmapBuf then leaves it to
// the garbage collector).
func mapBuf(n int) []byte {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return make([]byte, n)
	}
	return b
}

// unmapBuf gives a buffer from mapBuf back to the operating system. The
// buffer must be whole (as mapBuf returned it) and unused from now on. Heap
// buffers are not mappings; unix.Munmap refuses them and nothing happens.
func unmapBuf(b []byte) { _ = unix.Munmap(b) }
