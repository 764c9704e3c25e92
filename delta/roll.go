package delta

// This file holds the rsync weak checksum in the form the scans need: split
// into its two halves so a loop can roll it without calls. The values are
// those of manifest.WeakSum and manifest.Roller (tested in roll_test.go).

// weakAB returns the two running halves of the weak checksum of p. Only the
// low 16 bits of each matter; b = Σ (n-i)·x_i is computed as the sum of the
// prefix sums of p, which needs no multiplication.
func weakAB(p []byte) (a, b uint32) {
	for _, x := range p {
		a += uint32(x)
		b += a
	}
	return a, b
}

// weakOf combines the halves into the checksum value.
func weakOf(a, b uint32) uint32 { return a&0xffff | b<<16 }

// rollScan rolls a window of length l over buf, starting with the window at
// j whose halves are a and b, and stops at the first window whose checksum is
// in ws or at the last window that fits in buf (start len(buf)-l). It returns
// the start of the window it stopped at, its halves and whether it is a hit.
// It requires j+l <= len(buf).
func rollScan(buf []byte, j, l int, a, b uint32, ws *weakSet) (int, uint32, uint32, bool) {
	end := len(buf) - l
	slots := ws.slots
	shift := ws.shift
	empty := ws.empty
	n := uint32(l)
	if j < end {
		outs := buf[j:end]
		ins := buf[j+l:]
		ins = ins[:len(outs)]
		for k, o := range outs {
			w := a&0xffff | b<<16
			if v := slots[(w*0x9E3779B1)>>shift]; v != empty {
				if _, ok := ws.lookup(w); ok {
					return j + k, a, b, true
				}
			}
			out := uint32(o)
			a += uint32(ins[k]) - out
			b += a - n*out
		}
		j = end
	}
	_, ok := ws.lookup(weakOf(a, b))
	return j, a, b, ok
}

// rollOne slides the halves of a window of length l by one byte.
func rollOne(a, b uint32, l int, out, in byte) (uint32, uint32) {
	a += uint32(in) - uint32(out)
	b += a - uint32(l)*uint32(out)
	return a, b
}
