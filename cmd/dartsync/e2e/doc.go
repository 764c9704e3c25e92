// Package e2e holds the end-to-end tests of DartSync: the real dartsync
// binary (this package's parent, cmd/dartsync), built once in TestMain, run
// as one tracker and several peer processes on 127.0.0.1 with separate
// folders. Every check compares the folders by content hash and polls with
// a deadline; no assertion depends on a sleep.
//
// The harness: harness_test.go runs processes and reads folders (proc,
// eventually, tree); cluster_test.go starts a tracker and its peers
// (newCluster, addPeer, startPeer, launchPeer, waitAll, stopAll) and reads
// their logs; stats_test.go reads a peer's STATE/stats.json (readStats,
// readCounters, settledStats, settledCounters); status_test.go runs
// `dartsync status` (runStatus, statusJSON). Peers run with the
// --debug-* flags of `dartsync peer` that make a test fast (retry, stats
// interval) or reach a crash window (--debug-kill-after-rename).
package e2e
