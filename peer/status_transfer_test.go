package peer

import (
	"bytes"
	"testing"
	"time"

	"github.com/dartsync/dartsync/peer/localapi"
)

// TestTransferProgress: a transfer counts the bytes written to its partial
// (a resumed partial starts at what it holds), reports a rate and an ETA
// once bytes move, shows a running folder as syncing, and is gone, with a
// "finished" event, when it ends.
func TestTransferProgress(t *testing.T) {
	f := applyFixture(t)
	bus := localapi.NewBus()
	sub := bus.Subscribe()
	defer sub.Close()
	f.state.live.attach(bus, "docs")
	var data []byte // 4 different pieces of 16 KiB
	for i := range 4 {
		data = append(data, bytes.Repeat([]byte{byte('a' + i)}, 16<<10)...)
	}
	m := version(t, "big.bin", data, time.Now())
	part, err := f.store.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	defer part.Close()
	const piece = 16 << 10
	if err := part.WritePiece(0, data[:piece]); err != nil { // there before the transfer
		t.Fatal(err)
	}
	xf := f.state.live.beginTransfer(&m, part)
	xf.sources.Store(2)
	sink := xf.sink(part)
	tests := []struct {
		write    int   // piece written through the sink (-1: none)
		wantDone int64 // then
		wantErr  bool
	}{
		{-1, piece, false},
		{1, 2 * piece, false},
		{2, 3 * piece, false},
		{3, 3 * piece, true}, // wrong bytes: refused, not counted
	}
	for _, tt := range tests {
		if tt.write >= 0 {
			b := data[tt.write*piece : (tt.write+1)*piece]
			if tt.wantErr {
				b = bytes.Repeat([]byte("x"), piece)
			}
			if err := sink.WritePiece(tt.write, b); (err != nil) != tt.wantErr {
				t.Fatalf("write piece %d: %v, want error %v", tt.write, err, tt.wantErr)
			}
		}
		time.Sleep(time.Millisecond) // a non-zero duration for the rate
		ts := f.state.live.transfersNow("docs", time.Now())
		if len(ts) != 1 {
			t.Fatalf("%d transfers, want 1", len(ts))
		}
		x := ts[0]
		if x.Path != "big.bin" || x.Folder != "docs" || x.Size != int64(len(data)) || x.Done != tt.wantDone || x.Sources != 2 {
			t.Fatalf("after piece %d: %+v, want done %d", tt.write, x, tt.wantDone)
		}
		if moved := x.Done > piece; moved != (x.Rate > 0) || moved != (x.ETA > 0) {
			t.Fatalf("after piece %d: rate %v eta %v", tt.write, x.Rate, x.ETA)
		}
	}
	if st := f.status(time.Now()).folder.State; st != localapi.StateSyncing {
		t.Fatalf("folder state %q during a transfer, want syncing", st)
	}
	f.state.live.endTransfer(xf, true)
	if ts := f.state.live.transfersNow("docs", time.Now()); len(ts) != 0 {
		t.Fatalf("transfers after the end: %+v", ts)
	}
	var got []string
	for len(got) < 2 {
		e := <-sub.C
		if e.Type == localapi.EventTransfer {
			got = append(got, e.State)
		}
	}
	if got[0] != "started" || got[1] != "finished" {
		t.Fatalf("transfer events %v", got)
	}
}
