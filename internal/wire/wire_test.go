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

// stepReader serves data and records the largest buffer it was asked to fill.
type stepReader struct {
	data    []byte
	largest int
}

func (s *stepReader) Read(p []byte) (int, error) {
	s.largest = max(s.largest, len(p))
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

// TestReadBodySteps: bodies are read in steps of at most Step bytes, big or
// cut short, and arrive whole.
func TestReadBodySteps(t *testing.T) {
	tests := []struct {
		name     string
		declared int
		sent     int
		want     error
	}{
		{"empty", 0, 0, nil},
		{"one step", 100, 100, nil},
		{"exactly a step", Step, Step, nil},
		{"many steps", 5*Step + 17, 5*Step + 17, nil},
		{"declared large, little sent", 16 << 20, 10, ErrTruncated},
		{"cut inside a later step", 3 * Step, 2*Step + 1, ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := bytes.Repeat([]byte{7}, tt.sent)
			r := &stepReader{data: data}
			body, err := ReadBody(r, tt.declared)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("ReadBody = %v, want %v", err, tt.want)
			}
			if r.largest > Step {
				t.Fatalf("asked to fill %d bytes at once, step is %d", r.largest, Step)
			}
			if err == nil && !bytes.Equal(body, data) {
				t.Fatalf("body of %d bytes, want %d", len(body), len(data))
			}
		})
	}
}

// TestReadLength: the header alone is read and checked.
func TestReadLength(t *testing.T) {
	r := bytes.NewReader([]byte{0, 0, 1, 0, 'x'})
	n, err := ReadLength(r, 1024)
	if err != nil || n != 256 || r.Len() != 1 {
		t.Fatalf("ReadLength = %d, %v with %d bytes left; want 256, nil, 1", n, err, r.Len())
	}
	if _, err := ReadLength(bytes.NewReader([]byte{0, 0, 4, 1}), 1024); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v, want ErrTooLarge", err)
	}
}

// FuzzReadBody: any declared length and any bytes: either the whole body
// or an error, never a crash.
func FuzzReadBody(f *testing.F) {
	f.Add(uint32(3), []byte("abc"))
	f.Add(uint32(1<<24), []byte("short"))
	f.Add(uint32(Step+1), bytes.Repeat([]byte{1}, Step+1))
	f.Fuzz(func(t *testing.T, n uint32, data []byte) {
		n %= 1 << 24
		body, err := ReadBody(bytes.NewReader(data), int(n))
		if err != nil {
			if int(n) <= len(data) {
				t.Fatalf("ReadBody(%d) of %d bytes: %v", n, len(data), err)
			}
			return
		}
		if len(body) != int(n) || !bytes.Equal(body, data[:n]) {
			t.Fatalf("body of %d bytes, want %d", len(body), n)
		}
	})
}

// TestAppendFrame: a frame appended after other bytes reads back as Write's
// does, and what follows it stays in order.
func TestAppendFrame(t *testing.T) {
	out, err := AppendFrame([]byte("x"), wrapperspb.String("hello"))
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, "tail"...)
	var viaWrite bytes.Buffer
	if err := Write(&viaWrite, wrapperspb.String("hello")); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out[1:len(out)-4], viaWrite.Bytes()) {
		t.Fatalf("AppendFrame %x, Write %x", out[1:len(out)-4], viaWrite.Bytes())
	}
	r := bytes.NewReader(out[1:])
	var got wrapperspb.StringValue
	if err := Read(r, &got, 64); err != nil || got.GetValue() != "hello" {
		t.Fatalf("read back %q, %v", got.GetValue(), err)
	}
	if rest, _ := io.ReadAll(r); string(rest) != "tail" {
		t.Fatalf("after the frame: %q", rest)
	}
}
