package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// shutdownWait bounds how long Serve waits for requests in progress once
// its context ends; event streams end at once.
const shutdownWait = time.Second

// Source is what the server serves: the daemon's status snapshot (cheap,
// safe from any goroutine) and its event bus.
type Source interface {
	Status() Status
	Events() *Bus
}

// Handler returns the API's HTTP handler: the /v1 endpoints over src and
// metrics (nil: none) at /metrics. Event streams end when ctx ends.
func Handler(ctx context.Context, src Source, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	get := func(path string, f func() any) {
		mux.HandleFunc("/"+APIVersion+path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				writeError(w, http.StatusMethodNotAllowed, "method %s not allowed on %s (GET only)", r.Method, r.URL.Path)
				return
			}
			writeJSON(w, http.StatusOK, f())
		})
	}
	get("/status", func() any { return src.Status() })
	get("/folders", func() any { return nonNil(src.Status().Folders) })
	get("/transfers", func() any { return nonNil(src.Status().Transfers) })
	get("/conflicts", func() any { return nonNil(src.Status().Conflicts) })
	handleLimits(mux, src)
	mux.HandleFunc("/"+APIVersion+"/events", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			writeError(w, http.StatusMethodNotAllowed, "method %s not allowed on %s (GET only)", r.Method, r.URL.Path)
			return
		}
		streamEvents(ctx, w, r, src.Events())
	})
	if metrics != nil {
		mux.Handle("/metrics", metrics)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no endpoint %s (this peer serves API %s: see docs/API.md)", r.URL.Path, APIVersion)
	})
	return mux
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// streamEvents writes the bus's events to w as JSON lines until the
// client goes away or ctx ends.
func streamEvents(ctx context.Context, w http.ResponseWriter, r *http.Request, bus *Bus) {
	fl, ok := w.(http.Flusher)
	if !ok || bus == nil {
		writeError(w, http.StatusInternalServerError, "event stream not available")
		return
	}
	sub := bus.Subscribe()
	defer sub.Close()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	enc := json.NewEncoder(w)
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.Context().Done():
			return
		case e := <-sub.C:
			if n := sub.Dropped(); n > 0 {
				if enc.Encode(Event{Seq: e.Seq, Time: e.Time, Type: EventDropped, Count: n}) != nil {
					return
				}
			}
			if enc.Encode(e) != nil {
				return
			}
			fl.Flush()
		}
	}
}

// ErrorBody is the JSON body of every error answer (4xx, 5xx).
type ErrorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, ErrorBody{Error: fmt.Sprintf(format, args...)})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away: nothing to do
}

// Serve serves h on l until ctx ends, then shuts the server down: requests
// in progress get shutdownWait, open event streams end at once (they
// watch ctx). It returns nil after a shutdown by ctx.
func Serve(ctx context.Context, l net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }() // ends when Shutdown or Close is called below
	select {
	case err := <-errc:
		return fmt.Errorf("localapi: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("localapi: serve: %w", err)
	}
	return nil
}
