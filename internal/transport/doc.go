// Package transport opens mutually authenticated QUIC connections between
// DartSync nodes.
//
// Terms:
//
//   - Connection: a QUIC connection (quic-go) over UDP carrying TLS 1.3 only,
//     with the mandatory ALPN protocol ALPN ("dartsync/1"). A client offering
//     any other protocol fails the handshake ("no application protocol").
//   - Both ends present the self-signed certificate of their
//     identity.Identity; certificates are not checked against any CA. Each end
//     requires that the other's certificate carries an Ed25519 key and derives
//     the remote device ID from it (identity.FromCertificate). Conn.Remote is
//     that ID, established before Dial or Accept return.
//   - Pinning: Dial with a non-nil expect refuses, during the handshake, a
//     server whose device ID differs (ErrWrongDevice; the error names both
//     IDs). The listener accepts every well-formed certificate: deciding
//     whether a device is a member is the caller's job, using Conn.Remote.
//   - Endpoint: one UDP socket with its quic-go transport. A Listener owns one
//     and can also dial from it (Listener.Dial: the other side then sees the
//     listening port as source port); the package-level Dial creates one per
//     connection and releases it when the connection ends.
//   - Closing: Conn.CloseWithError (and Close, which is CloseWithError(0, ""))
//     tells the peer and waits until the connection's socket, if it owns one,
//     is released with quic-go's goroutines. A Dial connection that ends any
//     other way (peer close, idle timeout) releases its socket by itself.
//     Listener.Close refuses handshakes in progress, closes every connection
//     accepted or dialed through it (the peers are told) and closes the socket,
//     so no goroutine of the listener survives it.
//   - Stateless reset: every endpoint's quic-go transport has a stateless
//     reset key derived from the identity's private key (ResetKey: BLAKE3
//     derive-key under a context of its own, never the raw key). A node
//     restarted with the same identity on the same port answers a packet of
//     a connection of its previous run (larger than 42 bytes: quic-go
//     ignores smaller ones) with a stateless reset, which the other side
//     recognises from the token the connection announced; that connection
//     then ends at once with quic.StatelessResetError (IsStatelessReset)
//     instead of at its idle timeout. A Dial socket has the key too, though
//     a restarted process dials from another port.
//   - Options: keep-alive period and idle timeout are always set explicitly
//     (DefaultKeepAlive, DefaultIdleTimeout); flow-control windows are raised
//     well above quic-go's defaults for throughput (DefaultStreamWindow,
//     DefaultConnWindow).
//
// Sentinel errors: ErrWrongDevice (the server is not the pinned device),
// ErrBadPeerCert (the remote certificate is missing or not Ed25519),
// ErrClosed (Accept on a closed listener).
package transport
