package peer

import "sync/atomic"

// deltaCounters are the Stats counters of the rolling search and the piece
// deltas (embedded in Stats; peer/plan's executor counts through
// statsCounter).
type deltaCounters struct {
	PiecesFound        atomic.Int64 // pieces copied from the old version (rolling search)
	BytesFound         atomic.Int64
	PiecesDelta        atomic.Int64 // pieces rebuilt from a delta
	BytesDelta         atomic.Int64 // their piece bytes
	DeltaBytesSent     atomic.Int64 // signature bytes sent
	DeltaBytesReceived atomic.Int64 // delta bytes received (also in BytesReceived)
	DeltaFailed        atomic.Int64 // deltas that failed: the piece is fetched whole
}

// DeltaSnapshot is the JSON form of the delta counters (embedded in
// StatsSnapshot, so its fields sit next to the others in stats.json).
type DeltaSnapshot struct {
	PiecesFound        int64 `json:"pieces_found"`
	BytesFound         int64 `json:"bytes_found"`
	PiecesDelta        int64 `json:"pieces_delta"`
	BytesDelta         int64 `json:"bytes_delta"`
	DeltaBytesSent     int64 `json:"delta_bytes_sent"`
	DeltaBytesReceived int64 `json:"delta_bytes_received"`
	DeltaFailed        int64 `json:"delta_failed"`
}

func (c *deltaCounters) snapshot() DeltaSnapshot {
	return DeltaSnapshot{
		PiecesFound:        c.PiecesFound.Load(),
		BytesFound:         c.BytesFound.Load(),
		PiecesDelta:        c.PiecesDelta.Load(),
		BytesDelta:         c.BytesDelta.Load(),
		DeltaBytesSent:     c.DeltaBytesSent.Load(),
		DeltaBytesReceived: c.DeltaBytesReceived.Load(),
		DeltaFailed:        c.DeltaFailed.Load(),
	}
}
