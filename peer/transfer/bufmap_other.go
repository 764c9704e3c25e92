//go:build !unix

package transfer

// mapBuf returns n bytes of heap memory: on this platform piece buffers stay
// in the Go heap.
func mapBuf(n int) []byte { return make([]byte, n) }

// unmapBuf leaves a buffer to the garbage collector.
func unmapBuf([]byte) {}
