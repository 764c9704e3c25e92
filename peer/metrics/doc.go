// Package metrics holds the Prometheus metrics of one peer daemon, on a
// registry of its own (never the global one), served by Handler in the
// Prometheus text format.
//
// Terms:
//   - Kind: where a piece of a fetched version came from. "local": copied
//     from data this device already has (the chunk store); "found": copied
//     from the file's old version by the rolling search; "delta": rebuilt
//     from the old bytes and a delta fetched from a peer; "whole": fetched
//     whole from a peer. Only delta and whole cross the network.
//   - Folder: the tracker's folder name, the "folder" label of per-folder
//     metrics ("" is the tracker's default folder).
//
// Most values are not counted here: the daemon keeps its counters (peer's
// Stats) and the collector reads them at each scrape through Source, so the
// code that counts never calls into this package. The exceptions are
// events the counters do not keep: fetch latencies and pieces served (the
// observers of peer/transfer) and warnings and errors logged (LogHandler).
//
// Every metric name starts with "dartsync_", except the Go runtime's
// ("go_") and the process's ("process_").
package metrics
