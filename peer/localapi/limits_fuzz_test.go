package localapi

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzLimitsBody: any body of POST /v1/limits is answered 200 or 400,
// never a panic, and only a 200 reaches SetLimits. Seeds in
// testdata/fuzz/FuzzLimitsBody.
func FuzzLimitsBody(f *testing.F) {
	f.Add([]byte(`{"max_send": "5MB/s"}`))
	f.Add([]byte(`{"max_recv": "0", "lan_unlimited": true}`))
	f.Add([]byte(`{"max_send": 5}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		src := &limitsSource{fakeSource: fakeSource{st: testStatus(), bus: NewBus()}}
		h := Handler(context.Background(), src, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/limits", bytes.NewReader(body)))
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("body %q: status %d", body, rec.Code)
		}
		if rec.Code == http.StatusBadRequest && src.l != (Limits{}) {
			t.Fatalf("body %q: refused, yet the limits changed to %+v", body, src.l)
		}
	})
}
