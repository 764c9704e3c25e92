//go:build !unix

package discovery

import "syscall"

// reuse: on other systems the discovery port is bound without sharing (one
// DartSync process per host listens; Go sets SO_BROADCAST itself).
func reuse(network, address string, c syscall.RawConn) error { return nil }
