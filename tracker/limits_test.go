package tracker

import (
	"strings"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
)

// TestConnLimits: connections are counted per device and in total, members
// and devices not yet members apart; a device that joins moves to the
// members' count; released connections make room again.
func TestConnLimits(t *testing.T) {
	dev := func(i int) identity.DeviceID { return identity.DeviceID{byte(i), byte(i >> 8), 1} }
	tests := []struct {
		name    string
		fill    func(l *limits) // connections already open
		dev     identity.DeviceID
		member  bool
		wantErr string // "" = admitted
	}{
		{"first", func(*limits) {}, dev(1), true, ""},
		{"device at its limit", func(l *limits) {
			for range MaxConnsPerDevice {
				l.admitConn(dev(1), true)
			}
		}, dev(1), true, "too many connections from this device"},
		{"another device beside one at its limit", func(l *limits) {
			for range MaxConnsPerDevice {
				l.admitConn(dev(1), true)
			}
		}, dev(2), true, ""},
		{"members at the tracker's limit", func(l *limits) {
			for i := range MaxConns {
				l.admitConn(dev(i+10), true)
			}
		}, dev(2), true, "connection limit"},
		{"a stranger beside members at their limit", func(l *limits) {
			for i := range MaxConns {
				l.admitConn(dev(i+10), true)
			}
		}, dev(2), false, ""},
		{"strangers at their limit", func(l *limits) {
			for i := range MaxJoiningConns {
				l.admitConn(dev(i+10), false)
			}
		}, dev(2), false, "non-members"},
		{"a member beside strangers at their limit", func(l *limits) {
			for i := range MaxJoiningConns {
				l.admitConn(dev(i+10), false)
			}
		}, dev(2), true, ""},
		{"strangers who joined make room", func(l *limits) {
			for i := range MaxJoiningConns {
				d, _, _ := l.admitConn(dev(i+10), false)
				l.joined(d)
			}
		}, dev(2), false, ""},
		{"released connections make room", func(l *limits) {
			for range MaxConnsPerDevice {
				_, release, _ := l.admitConn(dev(1), true)
				release()
			}
		}, dev(1), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimits()
			tt.fill(l)
			_, _, err := l.admitConn(tt.dev, tt.member)
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("admitConn = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestFrameBudgets: a large frame takes its bytes of the device's and the
// tracker's budgets or is refused; small frames need none.
func TestFrameBudgets(t *testing.T) {
	tests := []struct {
		name    string
		held    []int64 // frames of devices 0, 1, ... already admitted
		dev     int
		n       int64
		wantErr string
	}{
		{"small frame, budgets full", []int64{MaxDeviceFrameBytes, MaxDeviceFrameBytes}, 0, smallFrame, ""},
		{"largest frame", nil, 0, MaxDeviceFrameBytes, ""},
		{"second large frame of a device", []int64{MaxDeviceFrameBytes / 2}, 0, MaxDeviceFrameBytes/2 + 1, "this device's frames"},
		{"another device's large frame", []int64{MaxDeviceFrameBytes}, 1, MaxDeviceFrameBytes, ""},
		{"tracker's budget taken by two devices", []int64{MaxDeviceFrameBytes, MaxDeviceFrameBytes}, 2, smallFrame + 1, "the tracker's frames"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimits()
			var devs []*deviceLimits
			for i := range 3 {
				d, _, err := l.admitConn(identity.DeviceID{byte(i)}, true)
				if err != nil {
					t.Fatal(err)
				}
				devs = append(devs, d)
			}
			for i, n := range tt.held {
				if _, err := l.admitFrame(devs[i], n); err != nil {
					t.Fatal(err)
				}
			}
			release, err := l.admitFrame(devs[tt.dev], tt.n)
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("admitFrame = %v, want %q", err, tt.wantErr)
			}
			if err == nil {
				release()
			}
		})
	}
}
