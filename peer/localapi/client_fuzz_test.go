package localapi

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzEventStream: any bytes as an event stream give events or an error,
// never a panic, and the reader stops.
func FuzzEventStream(f *testing.F) {
	f.Add([]byte(`{"seq":1,"time":"2026-12-03T10:00:00Z","type":"applied","path":"a"}` + "\n"))
	f.Add([]byte("\n\n{\"type\":\"dropped\",\"count\":3}\n{"))
	f.Add([]byte(`{"seq":-1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 0, 64), maxLine)
		es := &EventStream{body: io.NopCloser(bytes.NewReader(nil)), sc: sc}
		for range len(data) + 2 {
			if _, err := es.Next(); err != nil {
				if errors.Is(err, io.EOF) {
					return
				}
				return
			}
		}
		t.Fatal("more events than lines")
	})
}
