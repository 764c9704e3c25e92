package delta

import "math/bits"

// weakSet is an open-addressed hash set of weak checksums, built once and
// probed once per rolled byte. A miss, the common case, costs a multiply, one
// load and one compare: slots hold the weak values themselves, an empty slot
// holds the value empty, which is chosen not to be a member, so the probe
// needs no separate occupancy test. The table is at least four times larger
// than the member count, so most probes end at the first slot.
//
// A weakFilter in front of the table answers most misses without touching it.
//
// Each slot has a payload (an index chosen by the builder, for instance the
// start of a chain of blocks with that weak value).
type weakSet struct {
	slots   []uint32
	payload []int32
	shift   uint32
	mask    uint32
	empty   uint32
	filter  *weakFilter
}

// slotHash spreads a weak checksum over the table (Fibonacci hashing).
func slotHash(w uint32, shift uint32) uint32 { return (w * 0x9E3779B1) >> shift }

// newWeakSet builds a set with room for n members.
func newWeakSet(n int) *weakSet {
	size := 1024
	for size < 4*n {
		size <<= 1
	}
	k := uint32(bits.TrailingZeros(uint(size)))
	s := &weakSet{
		slots:   make([]uint32, size),
		payload: make([]int32, size),
		shift:   32 - k,
		mask:    uint32(size - 1),
	}
	return s
}

// build fills the set with the given distinct values and payloads, choosing
// the empty marker first.
func (s *weakSet) build(values []uint32, payloads []int32) {
	present := make(map[uint32]struct{}, len(values))
	for _, v := range values {
		present[v] = struct{}{}
	}
	for {
		if _, ok := present[s.empty]; !ok {
			break
		}
		s.empty++
	}
	for i := range s.slots {
		s.slots[i] = s.empty
	}
	for i, v := range values {
		h := slotHash(v, s.shift)
		for s.slots[h] != s.empty && s.slots[h] != v {
			h = (h + 1) & s.mask
		}
		s.slots[h] = v
		s.payload[h] = payloads[i]
	}
	s.filter = newFilter(values)
}

// lookup returns the payload of w and whether w is a member.
func (s *weakSet) lookup(w uint32) (int32, bool) {
	h := slotHash(w, s.shift)
	for {
		v := s.slots[h]
		if v == w && v != s.empty {
			return s.payload[h], true
		}
		if v == s.empty {
			return 0, false
		}
		h = (h + 1) & s.mask
	}
}
