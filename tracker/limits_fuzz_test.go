package tracker

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/manifest"
)

// FuzzMemberFrames: a member's control stream as the tracker reads it,
// frame by frame (limits.readFrame: length, budgets, body in steps), each
// decoded and converted like a session does. No input may crash it, every
// frame's budget is given back, and the stream ends with a classified
// error.
func FuzzMemberFrames(f *testing.F) {
	var stream bytes.Buffer
	for _, m := range seedPeerMsgs() {
		var one bytes.Buffer
		if err := wire.Write(&one, m); err != nil {
			f.Fatal(err)
		}
		f.Add(one.Bytes())
		stream.Write(one.Bytes())
	}
	f.Add(stream.Bytes()) // every message, one after the other
	f.Add(frameHeader(MaxMessageSize + 1))
	f.Add(append(frameHeader(smallFrame+1), make([]byte, 10)...))
	f.Fuzz(func(t *testing.T, in []byte) {
		l := newLimits()
		d, release, err := l.admitConn(identity.DeviceID{1}, true)
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		r := bytes.NewReader(in)
		for {
			body, done, err := l.readFrame(r, d, MaxMessageSize)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, wire.ErrTruncated) && !errors.Is(err, wire.ErrTooLarge) {
					t.Fatalf("unclassified error: %v", err)
				}
				break
			}
			if m, err := decodePeerMsg(body); err == nil {
				for _, p := range m.GetFileUpdate().GetChanges() {
					_, _ = manifest.FromProto(p)
				}
			}
			done()
		}
		if !d.frames.TryAcquire(MaxDeviceFrameBytes) || !l.frames.TryAcquire(MaxFrameBytes) {
			t.Fatal("a frame's budget was not given back")
		}
	})
}
