package localapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// limitsSource is a fakeSource whose limits can be changed; a rate is
// accepted when it ends in "/s" (the peer parses for real).
type limitsSource struct {
	fakeSource
	l Limits
}

func (s *limitsSource) Limits() Limits { return s.l }

func (s *limitsSource) SetLimits(ch LimitsChange) (Limits, error) {
	next := s.l
	for _, r := range []struct {
		in  *string
		out *int64
	}{{ch.MaxSend, &next.MaxSend}, {ch.MaxRecv, &next.MaxRecv}} {
		if r.in == nil {
			continue
		}
		if !strings.HasSuffix(*r.in, "/s") {
			return Limits{}, fmt.Errorf("bad rate %q", *r.in)
		}
		*r.out = int64(len(*r.in))
	}
	if ch.LANUnlimited != nil {
		next.LANUnlimited = *ch.LANUnlimited
	}
	s.l = next
	return next, nil
}

func TestLimitsEndpoint(t *testing.T) {
	src := &limitsSource{fakeSource: fakeSource{st: testStatus(), bus: NewBus()}, l: Limits{MaxSend: 100, SentLimited: 7}}
	control, stop := serve(t, src)
	defer stop()
	cl := NewClient(control)
	defer cl.Close()
	ctx := context.Background()
	str := func(s string) *string { return &s }
	yes := true
	for _, tc := range []struct {
		name    string
		change  LimitsChange
		want    Limits
		wantErr string
	}{
		{"send only", LimitsChange{MaxSend: str("5MB/s")}, Limits{MaxSend: 5, SentLimited: 7}, ""},
		{"recv and lan", LimitsChange{MaxRecv: str("80Mbit/s"), LANUnlimited: &yes}, Limits{MaxSend: 5, MaxRecv: 8, LANUnlimited: true, SentLimited: 7}, ""},
		{"nothing", LimitsChange{}, Limits{MaxSend: 5, MaxRecv: 8, LANUnlimited: true, SentLimited: 7}, ""},
		{"bad rate changes nothing", LimitsChange{MaxSend: str("1/s"), MaxRecv: str("fast")}, Limits{}, "bad rate"},
	} {
		got, err := cl.SetLimits(ctx, tc.change)
		if tc.wantErr != "" {
			if err == nil || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: SetLimits = %+v, %v; want error %q wrapping ErrRefused", tc.name, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: SetLimits = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
		if read, err := cl.Limits(ctx); err != nil || read != tc.want {
			t.Errorf("%s: Limits = %+v, %v; want %+v", tc.name, read, err, tc.want)
		}
	}
}

func TestLimitsBadRequests(t *testing.T) {
	src := &limitsSource{fakeSource: fakeSource{st: testStatus(), bus: NewBus()}}
	control, stop := serve(t, src)
	defer stop()
	tr, _ := clientTransport(control)
	hc := &http.Client{Transport: tr}
	for _, tc := range []struct {
		method, body string
		want         int
	}{
		{http.MethodPost, `{"max_send": "5MB/s", "speed": 1}`, http.StatusBadRequest},
		{http.MethodPost, `{"max_send": 5}`, http.StatusBadRequest},
		{http.MethodPost, `not json`, http.StatusBadRequest},
		{http.MethodPost, `{"max_send": "` + strings.Repeat("9", 8<<10) + `"}`, http.StatusBadRequest},
		{http.MethodPut, `{}`, http.StatusMethodNotAllowed},
		{http.MethodDelete, ``, http.StatusMethodNotAllowed},
		{http.MethodGet, ``, http.StatusOK},
	} {
		req, _ := http.NewRequest(tc.method, "http://dartsync/v1/limits", strings.NewReader(tc.body))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %q: %d, want %d", tc.method, tc.body, resp.StatusCode, tc.want)
		}
	}
	if src.l != (Limits{}) {
		t.Errorf("bad requests changed the limits: %+v", src.l)
	}
}

func TestNoLimitsWithoutLimitsSource(t *testing.T) {
	control, stop := serve(t, &fakeSource{st: testStatus(), bus: NewBus()})
	defer stop()
	cl := NewClient(control)
	defer cl.Close()
	if _, err := cl.Limits(context.Background()); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("Limits of a source without limits: %v, want 404", err)
	}
}
