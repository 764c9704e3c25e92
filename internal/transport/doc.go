// Package transport opens mutually authenticated connections between
// DartSync nodes, over QUIC or over TLS on TCP.
//
// Terms:
//
//   - Session: the interface the rest of the code uses: one authenticated
//     connection to one device (RemoteDevice, known before a dial or an
//     accept returns) carrying any number of Streams. Network says which
//     transport carries it: "quic" (Conn.Session) or "tcp" (DialTCP,
//     TCPListener). SessionListener accepts Sessions and dials from the same
//     node (Listener.Sessions, TCPListener). Both implementations pass one
//     conformance suite (conformance*_test.go) and must keep passing it.
//
//   - Stream: one bidirectional byte stream of a Session; DartSync opens one
//     per request. Close ends the write direction in order (the reader gets
//     io.EOF); CancelWrite(code) abandons it (the reader gets a StreamError
//     with the code); CancelRead(code) abandons the read direction (the
//     writer gets a StreamError with the code). Deadlines work per
//     direction, and an expired deadline does not break the stream.
//
//   - Application errors: CloseWithError(code, reason) ends a Session; the
//     other side, its streams and its Context's cause report an
//     ApplicationError with Code, Reason and Remote set. AsApplicationError
//     and AsStreamError recognise both transports' errors, so callers need
//     not know which one carried them.
//
//   - Connection: a QUIC connection (quic-go) over UDP carrying TLS 1.3 only,
//     with the mandatory ALPN protocol ALPN ("dartsync/1"). A client offering
//     any other protocol fails the handshake ("no application protocol").
//
//   - Both ends present the self-signed certificate of their
//     identity.Identity; certificates are not checked against any CA. Each end
//     requires that the other's certificate carries an Ed25519 key and derives
//     the remote device ID from it (identity.FromCertificate). Conn.Remote is
//     that ID, established before Dial or Accept return.
//
//   - Pinning: Dial with a non-nil expect refuses, during the handshake, a
//     server whose device ID differs (ErrWrongDevice; the error names both
//     IDs). The listener accepts every well-formed certificate: deciding
//     whether a device is a member is the caller's job, using Conn.Remote.
//
//   - Endpoint: one UDP socket with its quic-go transport. A Listener owns one
//     and can also dial from it (Listener.Dial: the other side then sees the
//     listening port as source port); the package-level Dial creates one per
//     connection and releases it when the connection ends.
//
//   - Closing: Conn.CloseWithError (and Close, which is CloseWithError(0, ""))
//     tells the peer and waits until the connection's socket, if it owns one,
//     is released with quic-go's goroutines. A Dial connection that ends any
//     other way (peer close, idle timeout) releases its socket by itself.
//     Listener.Close refuses handshakes in progress, closes every connection
//     accepted or dialed through it (the peers are told) and closes the socket,
//     so no goroutine of the listener survives it.
//
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
//
//   - Options: keep-alive period and idle timeout are always set explicitly
//     (DefaultKeepAlive, DefaultIdleTimeout); flow-control windows are raised
//     well above quic-go's defaults for throughput (DefaultStreamWindow,
//     DefaultConnWindow).
//
//   - TCP session: TLS 1.3 on TCP with the same certificates, pinning and
//     ALPN as QUIC, then a yamux session (hashicorp/yamux) with explicit
//     keep-alives (KeepAlive; a ping unanswered within IdleTimeout ends the
//     session) and a stream window of at most 256 KiB (maxYamuxWindow, also
//     bounded by StreamWindow; yamux has no
//     connection window). Its first yamux stream is the control stream: the
//     server writes one ready byte once it has accepted the client (in TLS
//     1.3 the client's handshake ends before the server judges the client's
//     certificate); then either side writes stream credit (how many more
//     streams the other side may open: MaxIncomingStreams at the start, then
//     batches as streams finish, so OpenStream waits at the limit as over
//     QUIC), CancelRead notices (stream ID, code) and at most one goaway
//     (code, reason) before it hangs up. The
//     closer waits up to closeGrace for the other side to read the goaway
//     and hang up first, so the reason is never lost to a reset. Every other
//     yamux stream is a Stream whose bytes are frames: data (at most
//     maxFrame bytes) or reset (the code of CancelWrite); yamux's own close
//     at a frame boundary is the orderly end, anywhere else
//     io.ErrUnexpectedEOF. yamux writes to a frameConn, which sends a data
//     frame's header together with its body (one TLS record, one system
//     call for a small frame instead of two). A stream whose reading ended before the other
//     side's end (CancelRead, a broken frame) is drained until that end,
//     releasing yamux's buffer, and counts against the other side's credit
//     meanwhile; receiving a stop notice while not writing ends the write
//     direction, as QUIC resets a stream on STOP_SENDING. A TCPListener handshakes in the background (at
//     most maxTCPHandshakes at once, each within the handshake timeout) and
//     queues at most tcpAcceptQueue sessions not yet accepted.
//
//   - Node: ListenNode listens in a Mode: ModeAuto on UDP (QUIC) and TCP
//     with one port number (port 0 picks a number free on both), ModeQUIC
//     or ModeTCP on one. Its AcceptSession returns the sessions of both.
//
//   - Dialer: dials in a Mode. The auto rule: QUIC first; TCP as well when
//     QUIC has no session after Fallback (DefaultFallback, 1 s) or failed;
//     the first session wins, the other dial is cancelled. An address where
//     TCP won prefers TCP (QUIC raced after the same delay) for QUICRetry
//     (DefaultQUICRetry, 5 min), then QUIC again; a QUIC win clears it.
//     A bulk Dialer (Dialer.Bulk, for large files' pieces) starts with TCP for
//     an address on a directly connected network or loopback (onLink).
//
//   - Lost: IsConnLost recognises a session that ended without either side
//     closing it (QUIC idle timeout, TCP ErrConnLost), for callers that
//     treat it apart from an ApplicationError.
//
// Sentinel errors: ErrWrongDevice (the server is not the pinned device),
// ErrBadPeerCert (the remote certificate is missing or not Ed25519, or a TCP
// server hung up instead of accepting the client), ErrClosed (Accept on a
// closed listener), ErrProtocol (the other side broke a TCP stream's framing
// or the control stream), ErrConnLost (a TCP session ended without a goaway:
// broken connection or unanswered keep-alives).
package transport
