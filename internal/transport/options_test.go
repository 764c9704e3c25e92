package transport

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

// The options reach quic-go: without keep-alives an idle connection ends by
// idle timeout; with them it survives several idle timeouts.
func TestKeepAliveAndIdleTimeoutApplied(t *testing.T) {
	const idle = 600 * time.Millisecond
	tests := []struct {
		name     string
		keep     time.Duration
		wantIdle bool // connection ends by idle timeout
	}{
		{"keep-alive off", -1, true},
		{"keep-alive on", idle / 6, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			opt := Options{KeepAlive: tc.keep, IdleTimeout: idle}
			srvID, cliID := newID(t), newID(t)
			l, err := Listen("127.0.0.1:0", srvID, opt)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			acc := acceptAsync(ctx, l)
			cc, err := Dial(ctx, l.Addr().String(), cliID, &srvID.ID, opt)
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			if r := <-acc; r.err != nil {
				t.Fatal(r.err)
			}
			select {
			case <-cc.Context().Done():
				var ie *quic.IdleTimeoutError
				if !tc.wantIdle || !errors.As(context.Cause(cc.Context()), &ie) {
					t.Fatalf("connection ended: %v", context.Cause(cc.Context()))
				}
			case <-time.After(4 * idle):
				if tc.wantIdle {
					t.Fatal("idle connection still open after 4 idle timeouts")
				}
			}
		})
	}
}
