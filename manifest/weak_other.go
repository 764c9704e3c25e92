//go:build !amd64

package manifest

// weakSum is WeakSum's implementation.
func weakSum(p []byte) uint32 { return weakGeneric(p) }
