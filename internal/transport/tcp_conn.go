package transport

import (
	"encoding/binary"
	"net"
)

// yamux's frame header: version, type, flags (2), stream ID (4), length
// (4); typeData frames carry length bytes of body.
const (
	yamuxHeader   = 12
	yamuxTypeData = 0
	// coalesceMax is what frameConn writes together with a held header:
	// one TLS record's worth of plaintext.
	coalesceMax = 16<<10 - yamuxHeader
)

// frameConn is the connection a yamux session writes to. yamux's send
// loop (its only writer) writes a frame's header and its body in two
// Writes, which over TLS are two records and two system calls per frame;
// frameConn holds the header of a data frame that has a body and writes it
// with the body's first bytes (up to one record) in one Write, so a small
// frame costs one record and one system call.
type frameConn struct {
	net.Conn
	hdr  [yamuxHeader]byte
	held bool
	buf  []byte // scratch for a header and the body's first bytes
}

func (c *frameConn) Write(p []byte) (int, error) {
	if c.held {
		c.held = false
		k := min(len(p), coalesceMax)
		c.buf = append(append(c.buf[:0], c.hdr[:]...), p[:k]...)
		n, err := c.Conn.Write(c.buf)
		if err != nil {
			return max(n-yamuxHeader, 0), err
		}
		if k == len(p) {
			return k, nil
		}
		m, err := c.Conn.Write(p[k:])
		return k + m, err
	}
	if len(p) == yamuxHeader && p[1] == yamuxTypeData && binary.BigEndian.Uint32(p[8:]) > 0 {
		copy(c.hdr[:], p)
		c.held = true
		return len(p), nil
	}
	return c.Conn.Write(p)
}
