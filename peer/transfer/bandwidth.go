package transfer

import (
	"context"
	"net/netip"

	"github.com/dartsync/dartsync/peer/bandwidth"
)

// WithBandwidth makes the server's piece data wait on l's send limit
// (peer/bandwidth; shared with whatever else l limits, such as a Fetcher's
// receiving: FetchOptions.Bandwidth). Nil: unlimited (the default).
func WithBandwidth(l *bandwidth.Limiter) ServerOption {
	return func(c *serverConfig) { c.bw = l }
}

// WithUploadLimit limits the bytes per second the server sends, summed over
// all remotes, with a limiter of its own (WithBandwidth shares one). Zero
// or negative means unlimited (the default); a rate below
// bandwidth.MinRate is raised to it.
func WithUploadLimit(bytesPerSecond float64) ServerOption {
	return func(c *serverConfig) {
		if bytesPerSecond <= 0 {
			c.bw = nil
			return
		}
		c.bw, _ = bandwidth.New(bandwidth.Limits{Send: min(max(bandwidth.Rate(bytesPerSecond), bandwidth.MinRate), bandwidth.MaxRate)})
	}
}

// remoteKey is the context key of the remote address a request is served
// to (for the limit's local-subnet exemption).
type remoteKey struct{}

func withRemote(ctx context.Context, addr netip.Addr) context.Context {
	return context.WithValue(ctx, remoteKey{}, addr)
}

func remoteOf(ctx context.Context) netip.Addr {
	a, _ := ctx.Value(remoteKey{}).(netip.Addr)
	return a
}

// received takes the bytes of a piece just read from src from the receive
// limit (after the read: the wait holds back the next request's bytes, not
// this one's deadline). A wait that fails (ctx ended) fails the request and
// gives data back.
func (f *Fetcher) received(ctx context.Context, src Source, data []byte, err error) ([]byte, error) {
	if err != nil {
		return data, err
	}
	if _, err := f.opt.Bandwidth.Wait(ctx, bandwidth.Recv, bandwidth.ParseAddr(src.Addr), len(data), nil); err != nil {
		f.bufs.put(data)
		return nil, err
	}
	return data, nil
}
