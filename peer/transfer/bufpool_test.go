package transfer

import "testing"

func TestBufPool(t *testing.T) {
	tests := []struct {
		n       int
		wantCap int
	}{
		{1, 4 << 10},
		{4 << 10, 4 << 10},
		{4<<10 + 1, 8 << 10},
		{1 << 20, 1 << 20},
		{1<<20 + 1, 2 << 20},
		{MaxPieceLen, MaxPieceLen},
	}
	p := newBufPool()
	for _, tt := range tests {
		b := p.get(tt.n)
		if len(b) != tt.n || cap(b) != tt.wantCap {
			t.Errorf("get(%d): len %d cap %d, want len %d cap %d", tt.n, len(b), cap(b), tt.n, tt.wantCap)
		}
		p.put(b)
		b2 := p.get(tt.n)
		if len(b2) != tt.n || cap(b2) != tt.wantCap {
			t.Errorf("reused get(%d): len %d cap %d", tt.n, len(b2), cap(b2))
		}
	}
	// Foreign buffers of a non-class capacity are not pooled.
	p.put(make([]byte, 5000))
	if b := p.get(5000); cap(b) != 8<<10 {
		t.Errorf("foreign buffer reused: cap %d", cap(b))
	}
}
