// Package benchmarks measures DartSync's whole-path throughput on this
// machine with `go test -run '^$' -bench . ./benchmarks/`.
//
// Terms:
//
//   - Raw QUIC: plain quic-go over loopback with the same flow-control windows
//     as internal/transport, no DartSync protocol (BenchmarkRawQUIC); the
//     ceiling the transfer benchmarks are compared with.
//   - Sync: a file moved by the peer/transfer fetcher from piece servers that
//     read a real chunk store into a real partial file on disk, over real
//     QUIC on loopback (BenchmarkSyncOneSource, BenchmarkSyncThreeSources,
//     BenchmarkSmallFiles).
//
// Every benchmark reports MB/s (b.SetBytes) or files/s (b.ReportMetric);
// nothing here asserts a speed.
package benchmarks
