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
// `dartsync status` (runStatus, statusJSON); folders_test.go runs peers of
// several folders (folderPeer, startEnv for a peer's own environment: a
// config file in its user config directory) and folders_wire_test.go asks
// a running peer for pieces as another device (askPiece); access_test.go
// runs `dartsync tracker token|members` on the cluster's tracker
// (cluster.admin) and folders_access_test.go reads a tree for a folder's
// names and bytes (grepTree) and loads a peer's identity to speak as it
// (loadIdentity). Every process
// runs with its user config directory in the test's directory, so no
// config file of the machine's user leaks in, and every tracker and peer
// with --no-discovery (noDiscovery), so nothing is announced to or looked
// for on the machine's real network. The LAN discovery tests
// (discovery_linux_test.go) run their processes in network namespaces of
// their own instead: a bridge and one namespace per host with only the
// connected route (netns_linux_test.go, vlan; skipped unless root). Peers run with the
// --debug-* flags of `dartsync peer` that make a test fast (retry, stats
// interval) or reach a crash window (--debug-kill-after-rename).
//
// The harness takes a testing.TB, so benchmarks run real processes too:
// restart_test.go measures how soon a change flows after a tracker or a peer
// is killed and restarted (BenchmarkTrackerKillToChange,
// BenchmarkPeerKillToChange: seconds, b.ReportMetric), with the default
// retry interval; its tests check only that changes flow again.
package e2e
