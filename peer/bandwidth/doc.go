// Package bandwidth limits the piece bytes a peer sends and receives
// (`dartsync peer --max-send RATE --max-recv RATE`): one token bucket per
// direction (golang.org/x/time/rate), shared by every transfer of the
// daemon, changeable while transfers run.
//
// Terms:
//
//   - Rate: bytes per second, written with a unit (ParseRate: 10MB/s,
//     80Mbit/s, 512KiB/s; 0 or "unlimited" for no limit). Decimal units
//     are powers of 1000, binary ones (KiB, MiB, GiB) of 1024, bit units
//     are an eighth of a byte.
//   - Limits: the send rate, the receive rate and LANUnlimited. A Limiter
//     holds them; Set changes them at run time, and transfers under way
//     follow at their next chunk (a wait under the old rate is cut short).
//   - Bucket: one direction's token bucket. Its burst is one Chunk or 20 ms
//     of the rate, whichever is more, so a long-idle limiter lets out at
//     most that much at once.
//   - Chunk: the most bytes one wait takes from a bucket (32 KiB). Every
//     stream waits chunk by chunk, in the order the waits were asked for
//     (the bucket's reservations queue), so concurrent transfers share the
//     rate fairly and none holds the bucket for a whole piece.
//   - Local subnet: a prefix of one of this host's interface addresses
//     (loopback included), read again at most every SubnetRefresh. With
//     LANUnlimited, bytes to or from an address in one are not limited.
//   - Limited stream: a stream wrapped by Limiter.Stream (one direction
//     limited: a piece server limits what it writes, a fetcher what it
//     reads). A wait happens before a write and after a read, and moves
//     that direction's deadline later by the time waited, so a limit never
//     turns into a stall timeout on this side.
//
// Only piece-transfer streams are wrapped (peer/transfer). The tracker
// connection is another connection that nothing here touches: a limit never
// delays it.
//
// A nil *Limiter limits nothing. A Limiter is safe for concurrent use and
// owns no goroutine.
//
// Sentinel errors: ErrBadRate (ParseRate: the text is not a rate),
// ErrStopped (a wait ended because its stream was cancelled).
package bandwidth
