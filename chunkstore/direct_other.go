//go:build !linux

package chunkstore

// directSupported: this platform has no O_DIRECT (macOS's F_NOCACHE and
// Windows' unbuffered I/O are not used).
const directSupported = false

func writeDirect(string, []byte, int64) error { return errNoDirect }
