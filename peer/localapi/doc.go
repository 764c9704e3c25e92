// Package localapi is a peer's local control API: JSON over HTTP on a Unix
// socket in the device's state directory (mode 0600; on Windows a loopback
// port whose address and key are in a 0600 key file), for `dartsync status`
// and for scripts. Paths are versioned (/v1/...); fields are only ever added
// within a version. docs/API.md is the reference for users.
//
// Terms:
//
//   - Endpoint: where a peer's API listens, ControlPath(stateDir): the
//     socket (or the Windows key file). The folder's marker names it
//     (peer/marker, field Control), so a client needs only the folder.
//   - Status: one snapshot of the daemon (Status), served at /v1/status;
//     /v1/folders, /v1/transfers and /v1/conflicts are parts of it.
//   - Source: what the server serves (the daemon): Status and the Bus;
//     a LimitsSource also has /v1/limits, the bandwidth limits, read with
//     GET and changed with POST (the only endpoint that changes anything).
//   - Event: one thing that happened (Event), streamed at /v1/events as JSON
//     lines; a slow reader loses events, never slows the daemon.
//   - Bus: hands each published event to every Subscription (one per open
//     stream) without waiting; a full subscription counts what it lost and
//     its stream reports it as an EventDropped event.
//
// Ownership: Serve runs the HTTP server until its context ends, then shuts
// it down; event streams watch that context, so an open stream never delays
// the peer's shutdown. The caller runs Serve in its errgroup.
//
// Sentinel errors: ErrNotRunning (the client found no peer at the
// endpoint), ErrInUse (Listen: a running peer already serves it),
// ErrRefused (the peer refused a request as wrong: 4xx).
package localapi
