// Package benchmarks measures DartSync's throughput on this machine with
// `go test -run '^$' -bench . ./benchmarks/`, at two levels, and the real
// binaries with e2e_perf.sh (save-to-complete seconds and receiver RSS) and
// e2e_speed.sh (default settings: 10 000 small files from one peer to two
// others in files/s, and save-to-synced seconds of a new 4 KiB file and of
// two edits of a 256 MiB file, each beside rsync in the same run).
//
// Terms:
//
//   - Raw QUIC: plain quic-go over loopback with the same flow-control windows
//     as internal/transport, no DartSync protocol (BenchmarkRawQUIC); the
//     ceiling the other benchmarks are compared with. rawRate measures it
//     inside a sync benchmark too, so both figures share the machine's load.
//   - Sync (BenchmarkSync*, BenchmarkSmallFiles): whole peer daemons
//     (peer.Daemon: watcher, hashing, index, tracker client, fetcher, piece
//     server, chunk store, apply) and an in-process tracker, all over real
//     QUIC on loopback, with real folders; timed from the moment a file
//     appears in one folder (or a fresh receiver starts) until it is
//     complete in the other folder.
//   - Transfer (BenchmarkTransfer*): the peer/transfer fetcher alone, from
//     piece servers reading a real chunk store into a real partial file that
//     is committed (fsync + rename); the *NoDisk variants verify and drop the
//     pieces instead. They split a sync figure into network and disk.
//
// Recovery after a SIGKILL (tracker or peer killed and restarted: seconds
// until the next change is on another peer) is measured with the real
// binaries in cmd/dartsync/e2e (BenchmarkTrackerKillToChange,
// BenchmarkPeerKillToChange).
//
// Every benchmark reports MB/s (b.SetBytes) or files/s (b.ReportMetric);
// nothing here asserts a speed.
package benchmarks
