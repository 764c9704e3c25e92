package delta

// This file holds the rsync weak checksum in the form the scans need: split
// into its two halves so a loop can roll it without calls. The values are
// those of manifest.WeakSum and manifest.Roller (tested in roll_test.go).

// weakAB returns the two running halves of the weak checksum of p. Only the
// low 16 bits of each matter; b = Σ (n-i)·x_i is computed as the sum of the
// prefix sums of p, which needs no multiplication.
func weakAB(p []byte) (a, b uint32) {
	// Eight bytes per step: b gains 8·a plus the bytes weighted 8..1, a
	// gains their sum; the sums of one step do not depend on each other.
	for len(p) >= 8 {
		x0, x1, x2, x3 := uint32(p[0]), uint32(p[1]), uint32(p[2]), uint32(p[3])
		x4, x5, x6, x7 := uint32(p[4]), uint32(p[5]), uint32(p[6]), uint32(p[7])
		b += 8*a + 8*x0 + 7*x1 + 6*x2 + 5*x3 + 4*x4 + 3*x5 + 2*x6 + x7
		a += x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7
		p = p[8:]
	}
	for _, x := range p {
		a += uint32(x)
		b += a
	}
	return a, b
}

// weakOf combines the halves into the checksum value.
func weakOf(a, b uint32) uint32 { return a&0xffff | b<<16 }

// filterBits is log2 of the number of bits in a weakFilter.
const filterBits = 18

// weakFilter is a bitmap of hashed weak checksums (32 KiB, so it stays in
// the L1 cache): a clear bit proves a window's checksum is not in the set,
// so the rolling loop touches the set only for about n/2^18 of the windows.
type weakFilter [1 << (filterBits - 6)]uint64

// filterSlot is the bit of the filter that w sets.
func filterSlot(w uint32) uint32 { return (w * 0x9E3779B1) >> (32 - filterBits) }

// newFilter returns the filter of the given weak checksums.
func newFilter(values []uint32) *weakFilter {
	f := new(weakFilter)
	for _, v := range values {
		h := filterSlot(v)
		f[h>>6] |= 1 << (h & 63)
	}
	return f
}

// rollScan rolls a window of length l over buf, starting with the window at
// j whose halves are a and b, and stops at the first window whose checksum is
// in ws or at the last window that fits in buf (start len(buf)-l). It returns
// the start of the window it stopped at, its halves and whether it is a hit.
// It requires j+l <= len(buf).
func rollScan(buf []byte, j, l int, a, b uint32, ws *weakSet) (int, uint32, uint32, bool) {
	end := len(buf) - l
	f := ws.filter
	for j < end {
		k, a2, b2, cand := rollFilter(buf[j:end], buf[j+l:], uint32(l), a, b, f)
		j, a, b = j+k, a2, b2
		if !cand {
			break
		}
		if _, ok := ws.lookup(weakOf(a, b)); ok {
			return j, a, b, true
		}
		a, b = rollOne(a, b, l, buf[j], buf[j+l])
		j++
	}
	_, ok := ws.lookup(weakOf(a, b))
	return j, a, b, ok
}

// rollFilter is the hot loop: it rolls over the windows starting at
// outs[0], outs[1], ... (the byte entering for outs[k] is ins[k]) and
// stops at the first window whose filter bit is set (cand), or after the
// last one, returning how many windows it passed and the halves there. It
// calls nothing, so a, b and the indexes stay in registers.
func rollFilter(outs, ins []byte, n, a, b uint32, f *weakFilter) (int, uint32, uint32, bool) {
	ins = ins[:len(outs)]
	for k, o := range outs {
		w := a&0xffff | b<<16
		h := (w * 0x9E3779B1) >> (32 - filterBits)
		if f[h>>6]&(1<<(h&63)) != 0 {
			return k, a, b, true
		}
		out := uint32(o)
		a += uint32(ins[k]) - out
		b += a - n*out
	}
	return len(outs), a, b, false
}

// rollOne slides the halves of a window of length l by one byte.
func rollOne(a, b uint32, l int, out, in byte) (uint32, uint32) {
	a += uint32(in) - uint32(out)
	b += a - uint32(l)*uint32(out)
	return a, b
}
