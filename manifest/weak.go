package manifest

// WeakSum returns the rsync-style weak checksum of p:
//
//	a = Σ x_i mod 2^16, b = Σ (n-i)·x_i mod 2^16, sum = a | b<<16
//
// with n = len(p) and i counted from 0. Roller computes the same value over a
// sliding window.
//
// The implementation is vectorised (weak_generic.go, weak_amd64.s);
// weakNaive in the tests is this definition, literally.
func WeakSum(p []byte) uint32 { return weakSum(p) }

// Roller is the weak checksum over a window of fixed length n that slides one
// byte at a time. The zero Roller is not usable; call Reset first.
type Roller struct {
	a, b uint32
	n    uint32
}

// Reset starts the window over p (n = len(p)).
func (r *Roller) Reset(p []byte) {
	r.n = uint32(len(p))
	s := weakSum(p) // a and b matter only mod 2^16, and Roll is linear
	r.a, r.b = s&0xffff, s>>16
}

// Roll slides the window by one byte: out leaves at the front, in enters at
// the back.
func (r *Roller) Roll(out, in byte) {
	r.a += uint32(in) - uint32(out)
	r.b += r.a - r.n*uint32(out)
}

// Sum returns the weak checksum of the current window.
func (r *Roller) Sum() uint32 { return (r.a & 0xffff) | (r.b&0xffff)<<16 }
