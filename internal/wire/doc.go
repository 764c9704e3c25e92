// Package wire frames protobuf messages on a byte stream (a QUIC stream).
//
// Terms:
//
//   - Frame: a 4-byte big-endian length followed by that many bytes of one
//     protobuf-encoded message.
//   - Limit: the largest frame body a reader accepts. A larger length prefix is
//     rejected with ErrTooLarge before any body byte is read or allocated, so a
//     hostile sender cannot make the reader allocate more than the limit.
//   - Step: a body is read in steps of at most Step bytes, its buffer grown
//     only as bytes arrive, so a declared length below the limit is not
//     trusted either: a sender costs the reader about what it really sent.
//
// Sentinel errors: ErrTooLarge (a frame longer than the limit) and ErrTruncated
// (the stream ended inside a frame). A clean end of stream between frames is
// io.EOF. Decoding errors of the message itself are wrapped as ErrMalformed.
package wire
