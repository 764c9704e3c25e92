package peer

import (
	"context"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dartsync/dartsync/peer/localapi"
	"github.com/dartsync/dartsync/tracker"
)

// apiState is the daemon's side of the local control API (peer/localapi):
// the event bus every folder publishes on, the ring of recent errors (fed
// by the daemon's logger), and what Status reports about the daemon.
type apiState struct {
	bus     *localapi.Bus
	errs    *errorRing
	started time.Time
	listen  atomic.Pointer[string]         // the piece server's address, once Run listens
	tracker atomic.Pointer[tracker.Dialer] // the tracker connection, once Run dials it
}

func newAPIState() *apiState {
	bus := localapi.NewBus()
	return &apiState{bus: bus, errs: newErrorRing(bus), started: time.Now().UTC()}
}

// Events implements localapi.Source: the daemon's event bus.
func (d *Daemon) Events() *localapi.Bus { return d.api.bus }

// serveAPI attaches the folders to the event bus and serves the local API
// on the state directory's control socket in g until ctx ends. An API that
// cannot listen is logged and left out: the peer syncs without it.
func (d *Daemon) serveAPI(ctx context.Context, g *errgroup.Group, listen string) {
	d.api.listen.Store(&listen)
	for _, f := range d.folderList() {
		f.state.live.attach(d.api.bus, f.guard.name)
	}
	d.api.errs.onTrackerLost(func() {
		for _, f := range d.folderList() {
			f.state.live.setTracker(false)
		}
	})
	ep, err := localapi.Listen(d.cfg.StateDir)
	if err != nil {
		d.log.Warn("local control API not available (dartsync status will not find this peer)", "err", err)
		return
	}
	d.log.Debug("local control API serving", "endpoint", ep.Path)
	h := ep.Protect(localapi.Handler(ctx, d, d.MetricsHandler()))
	g.Go(func() error {
		defer ep.Close()
		return localapi.Serve(ctx, ep, h)
	})
}
