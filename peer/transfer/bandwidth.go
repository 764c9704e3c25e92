package transfer

import "github.com/dartsync/dartsync/peer/bandwidth"

// WithBandwidth makes the server's writes of every stream wait on l's send
// limit (peer/bandwidth; shared with whatever else l limits, such as a
// Fetcher's reads: FetchOptions.Bandwidth). Nil: unlimited (the default).
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

// limitedBy makes p's connections limit their reads with l (nil: none).
func (p *connPool) limitedBy(l *bandwidth.Limiter) *connPool {
	p.bw = l
	return p
}
