package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Handler serves svc's endpoints (see the package documentation).
func Handler(svc Service, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{svc: svc, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/tokens", h.issueToken)
	mux.HandleFunc("GET /v1/members", h.members)
	mux.HandleFunc("PUT /v1/members/{device}/folders", h.setFolders)
	mux.HandleFunc("DELETE /v1/members/{device}", h.remove)
	mux.HandleFunc("POST /v1/token/rotate", h.rotate)
	return mux
}

type handler struct {
	svc Service
	log *slog.Logger
}

func (h *handler) issueToken(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		h.fail(w, err)
		return
	}
	folders, ttl, err := DecodeTokenRequest(body)
	if err != nil {
		h.fail(w, err)
		return
	}
	tok, err := h.svc.IssueToken(r.Context(), folders, ttl)
	if err != nil {
		h.fail(w, err)
		return
	}
	h.log.Info("admin: join token issued", "folders", folders, "expires_in", ttl)
	writeJSON(w, http.StatusOK, tok)
}

func (h *handler) members(w http.ResponseWriter, r *http.Request) {
	ms, err := h.svc.Members(r.Context())
	if err != nil {
		h.fail(w, err)
		return
	}
	if ms == nil {
		ms = []Member{}
	}
	writeJSON(w, http.StatusOK, membersResponse{Members: ms})
}

func (h *handler) setFolders(w http.ResponseWriter, r *http.Request) {
	dev := r.PathValue("device")
	if err := CheckDevice(dev); err != nil {
		h.fail(w, err)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		h.fail(w, err)
		return
	}
	all, folders, err := DecodeFoldersRequest(body)
	if err != nil {
		h.fail(w, err)
		return
	}
	m, err := h.svc.SetFolders(r.Context(), dev, all, folders)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (h *handler) remove(w http.ResponseWriter, r *http.Request) {
	dev := r.PathValue("device")
	if err := CheckDevice(dev); err != nil {
		h.fail(w, err)
		return
	}
	if err := h.svc.RemoveMember(r.Context(), dev); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) rotate(w http.ResponseWriter, r *http.Request) {
	tok, err := h.svc.RotateToken(r.Context())
	if err != nil {
		h.fail(w, err)
		return
	}
	h.log.Info("admin: join token rotated")
	writeJSON(w, http.StatusOK, tok)
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestSize))
	if err != nil {
		return nil, fmt.Errorf("%w: body: %v", ErrInvalid, err)
	}
	return b, nil
}

// fail answers err with the status its sentinel maps to.
func (h *handler) fail(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrInvalid):
		code = http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		code = http.StatusNotFound
	default:
		h.log.Error("admin request failed", "err", err)
	}
	writeJSON(w, code, errorResponse{Error: err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Serve serves svc on ln until ctx ends, then shuts the server down
// (waiting up to a second for requests in flight) and returns. It returns
// an error only if serving failed for another reason.
func Serve(ctx context.Context, ln net.Listener, svc Service, log *slog.Logger) error {
	srv := &http.Server{Handler: Handler(svc, log), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("admin socket: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	<-done
	return nil
}
