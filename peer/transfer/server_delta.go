package transfer

import (
	"context"

	"github.com/dartsync/dartsync/internal/transport"

	"github.com/dartsync/dartsync/delta"
	"github.com/dartsync/dartsync/peer/peerpb"
)

// serveDelta reads the wanted piece under the limits (its bytes plus the
// delta's, at most about as much again), computes the delta against the
// requester's signature and sends it.
func (s *Server) serveDelta(ctx context.Context, str transport.Stream, rem *remote, src PieceSource, req deltaRequest) error {
	n := 2*int64(req.length) + delta.MaxDeltaOverhead
	return s.withLimits(ctx, rem, n, func() error {
		buf := s.bufs.get(req.length)
		defer s.bufs.put(buf)
		data, ok, err := readRequested(str, src, req.hash, req.length, buf)
		if !ok {
			return err
		}
		d, err := delta.Diff(req.sig, data)
		if err != nil {
			return writeStatus(str, peerpb.Status_STATUS_BAD_REQUEST, err.Error())
		}
		if err := s.sendData(ctx, str, d); err != nil {
			return err
		}
		s.served(true, len(d))
		return nil
	})
}
