package transport

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
)

// writesConn records each Write it is given.
type writesConn struct {
	net.Conn
	writes [][]byte
}

func (c *writesConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, append([]byte(nil), p...))
	return len(p), nil
}

func yamuxHdr(typ byte, length uint32) []byte {
	h := make([]byte, yamuxHeader)
	h[1] = typ
	binary.BigEndian.PutUint32(h[8:], length)
	return h
}

// TestFrameConnCoalesces: a data frame's header goes out with its body's
// first record in one write; other frames go out as written.
func TestFrameConnCoalesces(t *testing.T) {
	big := bytes.Repeat([]byte{7}, coalesceMax+100)
	tests := []struct {
		name   string
		writes [][]byte
		want   []int // lengths of the underlying writes
	}{
		{"small data frame", [][]byte{yamuxHdr(0, 5), []byte("hello")}, []int{17}},
		{"large data frame", [][]byte{yamuxHdr(0, uint32(len(big))), big}, []int{16 << 10, 100}},
		{"window update", [][]byte{yamuxHdr(1, 0)}, []int{12}},
		{"data frame without body (flags)", [][]byte{yamuxHdr(0, 0)}, []int{12}},
		{"ping then data", [][]byte{yamuxHdr(2, 1), yamuxHdr(0, 3), []byte("abc")}, []int{12, 15}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &writesConn{}
			c := &frameConn{Conn: w}
			var sent []byte
			for _, p := range tt.writes {
				if n, err := c.Write(p); n != len(p) || err != nil {
					t.Fatalf("Write(%d bytes) = %d, %v", len(p), n, err)
				}
				sent = append(sent, p...)
			}
			var got []int
			var joined []byte
			for _, p := range w.writes {
				got = append(got, len(p))
				joined = append(joined, p...)
			}
			if !bytes.Equal(joined, sent) {
				t.Fatal("bytes written differ from the bytes given")
			}
			if len(got) != len(tt.want) {
				t.Fatalf("writes %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("writes %v, want %v", got, tt.want)
				}
			}
		})
	}
}
