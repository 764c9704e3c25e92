package wire

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	for _, s := range []string{"", "a", string(make([]byte, 1000))} {
		if err := Write(&buf, wrapperspb.String(s)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"", "a", string(make([]byte, 1000))} {
		var got wrapperspb.StringValue
		if err := Read(&buf, &got, 2000); err != nil {
			t.Fatal(err)
		}
		if got.Value != want {
			t.Fatalf("got %q, want %q", got.Value, want)
		}
	}
	if _, err := ReadBytes(&buf, 10); err != io.EOF {
		t.Fatalf("at end: %v, want io.EOF", err)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
		limit int
		want  error
	}{
		{"too large", []byte{0xff, 0xff, 0xff, 0xff}, 1 << 20, ErrTooLarge},
		{"just over limit", []byte{0, 0, 0, 11}, 10, ErrTooLarge},
		{"short header", []byte{0, 0}, 10, ErrTruncated},
		{"short body", []byte{0, 0, 0, 5, 1, 2}, 10, ErrTruncated},
		{"garbage body", []byte{0, 0, 0, 3, 0xff, 0xff, 0xff}, 10, ErrMalformed},
		{"empty", nil, 10, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m wrapperspb.StringValue
			err := Read(bytes.NewReader(tt.input), &m, tt.limit)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Read = %v, want %v", err, tt.want)
			}
		})
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte{0, 0, 0, 3, 0x0a, 0x01, 'a'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 3, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			var m wrapperspb.StringValue
			if err := Read(r, &m, 1024); err != nil {
				return
			}
		}
	})
}
