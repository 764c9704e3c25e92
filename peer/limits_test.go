package peer

import (
	"testing"

	"github.com/dartsync/dartsync/peer/bandwidth"
	"github.com/dartsync/dartsync/peer/localapi"
)

// TestSetLimitsAtRunTime: the daemon's limits change through SetLimits
// (what the local API's POST /v1/limits calls), all or nothing.
func TestSetLimitsAtRunTime(t *testing.T) {
	n := newTestNet(t)
	a := n.startWith(t.TempDir(), func(c *Config) { c.Bandwidth = bandwidth.Limits{Send: 5e6} })
	str := func(s string) *string { return &s }
	yes := true
	for _, tc := range []struct {
		name    string
		change  localapi.LimitsChange
		want    bandwidth.Limits
		wantErr bool
	}{
		{"at start", localapi.LimitsChange{}, bandwidth.Limits{Send: 5e6}, false},
		{"receive", localapi.LimitsChange{MaxRecv: str("80Mbit/s")}, bandwidth.Limits{Send: 5e6, Recv: 10e6}, false},
		{"send off, lan on", localapi.LimitsChange{MaxSend: str("0"), LANUnlimited: &yes}, bandwidth.Limits{Recv: 10e6, LANUnlimited: true}, false},
		{"a bad rate changes nothing", localapi.LimitsChange{MaxSend: str("1MB/s"), MaxRecv: str("fast")}, bandwidth.Limits{Recv: 10e6, LANUnlimited: true}, true},
		{"too low", localapi.LimitsChange{MaxSend: str("1KiB/s")}, bandwidth.Limits{Recv: 10e6, LANUnlimited: true}, true},
	} {
		got, err := a.d.SetLimits(tc.change)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: error %v, want error %v", tc.name, err, tc.wantErr)
		}
		want := localapi.Limits{MaxSend: int64(tc.want.Send), MaxRecv: int64(tc.want.Recv), LANUnlimited: tc.want.LANUnlimited}
		if got.MaxSend != want.MaxSend || got.MaxRecv != want.MaxRecv || got.LANUnlimited != want.LANUnlimited {
			t.Errorf("%s: SetLimits answered %+v, want %+v", tc.name, got, want)
		}
		if now := a.d.bw.Limits(); now != tc.want {
			t.Errorf("%s: limits now %+v, want %+v", tc.name, now, tc.want)
		}
	}
}
