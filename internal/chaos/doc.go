// Package chaos is DartSync's fault-injection suite: real dartsync
// processes (a tracker and at least four peers) on a virtual LAN, a seeded
// random workload of user edits on several peers at once, and a nemesis that
// injects faults at random moments; after the workload stops and every
// fault is healed, invariants are checked (see invariants*.go).
//
// Terms:
//   - Network: where the processes run and how faults reach the wire
//     (network.go). The namespace LAN (net*.go) puts every host in its own
//     network namespace behind a router namespace whose forwarder (a TUN
//     device per host, seeded) drops, delays, duplicates and reorders
//     packets without rewriting addresses. A partition either drops the
//     packets between groups in the forwarder (silent, like a dead link) or
//     adds `unreachable` routes inside the hosts (sends fail at once, like a
//     vanished network); the nemesis picks one of the two each time. No
//     netem and no netfilter are needed.
//   - Host: one node of the Network (the tracker's or a peer's).
//   - Workload: the seeded user edits (workload*.go).
//   - Nemesis: the seeded faults (nemesis*.go).
//   - History: every workload step and fault with its time, printed with the
//     seed when a run fails so that it can be replayed.
//
// The suite is skipped by `go test ./...`; `make chaos` runs it (see the
// Makefile for the budget and seed flags).
package chaos
