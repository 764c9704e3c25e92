package manifest

// WeakSum returns the rsync-style weak checksum of p:
//
//	a = Σ x_i mod 2^16, b = Σ (n-i)·x_i mod 2^16, sum = a | b<<16
//
// with n = len(p) and i counted from 0. Roller computes the same value over a
// sliding window.
func WeakSum(p []byte) uint32 {
	var a, b uint32
	n := uint32(len(p))
	for i, x := range p {
		a += uint32(x)
		b += (n - uint32(i)) * uint32(x)
	}
	return (a & 0xffff) | (b&0xffff)<<16
}

// Roller is the weak checksum over a window of fixed length n that slides one
// byte at a time. The zero Roller is not usable; call Reset first.
type Roller struct {
	a, b uint32
	n    uint32
}

// Reset starts the window over p (n = len(p)).
func (r *Roller) Reset(p []byte) {
	r.a, r.b = 0, 0
	r.n = uint32(len(p))
	for i, x := range p {
		r.a += uint32(x)
		r.b += (r.n - uint32(i)) * uint32(x)
	}
}

// Roll slides the window by one byte: out leaves at the front, in enters at
// the back.
func (r *Roller) Roll(out, in byte) {
	r.a += uint32(in) - uint32(out)
	r.b += r.a - r.n*uint32(out)
}

// Sum returns the weak checksum of the current window.
func (r *Roller) Sum() uint32 { return (r.a & 0xffff) | (r.b&0xffff)<<16 }
