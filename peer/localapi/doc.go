// Package localapi is a peer's local control API: JSON over HTTP on a Unix
// socket in the device's state directory (mode 0600), for `dartsync status`
// and for scripts. Paths are versioned (/v1/...); fields are only ever added
// within a version.
//
// Terms:
//
//   - Status: one snapshot of the daemon (Status), served at /v1/status.
//   - Event: one thing that happened (Event), streamed at /v1/events as JSON
//     lines; a slow reader loses events, never slows the daemon.
package localapi
