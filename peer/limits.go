package peer

import (
	"fmt"

	"github.com/dartsync/dartsync/peer/bandwidth"
	"github.com/dartsync/dartsync/peer/localapi"
)

// Limits implements localapi.LimitsSource: the bandwidth limits in force
// (Config.Bandwidth, or as last changed) and the bytes counted against them.
func (d *Daemon) Limits() localapi.Limits {
	return apiLimits(d.bw)
}

func apiLimits(bw *bandwidth.Limiter) localapi.Limits {
	l := bw.Limits()
	return localapi.Limits{
		MaxSend: int64(l.Send), MaxRecv: int64(l.Recv), LANUnlimited: l.LANUnlimited,
		SentLimited: bw.Counted(bandwidth.Send), ReceivedLimited: bw.Counted(bandwidth.Recv),
	}
}

// SetLimits implements localapi.LimitsSource: it changes the limits ch
// names, all or none (a bad rate changes nothing); transfers under way
// follow at once.
func (d *Daemon) SetLimits(ch localapi.LimitsChange) (localapi.Limits, error) {
	next, err := d.bw.Update(func(l bandwidth.Limits) (bandwidth.Limits, error) {
		for _, r := range []struct {
			name string
			in   *string
			out  *bandwidth.Rate
		}{{"max_send", ch.MaxSend, &l.Send}, {"max_recv", ch.MaxRecv, &l.Recv}} {
			if r.in == nil {
				continue
			}
			v, err := bandwidth.ParseRate(*r.in)
			if err != nil {
				return l, fmt.Errorf("%s: %w", r.name, err)
			}
			*r.out = v
		}
		if ch.LANUnlimited != nil {
			l.LANUnlimited = *ch.LANUnlimited
		}
		return l, nil
	})
	if err != nil {
		return d.Limits(), err
	}
	d.log.Info("bandwidth limits changed", "limits", next.String())
	return d.Limits(), nil
}
