package delta

import (
	"bytes"
	"context"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// changeCase is one of the rsync comparison's changes (benchmarks/rsync.sh)
// applied to a benchSize random file.
type changeCase struct {
	name string
	edit func(old []byte) []byte
}

var changeCases = []changeCase{
	{"a_64x4KiB_overwrites", func(old []byte) []byte {
		nw := bytes.Clone(old)
		patch := randBytes(7000, 64*4096)
		for k := range 64 {
			off := k*len(old)/64 + k*7919 + 1000
			copy(nw[off:off+4096], patch[k*4096:])
		}
		return nw
	}},
	{"b_insert_and_delete", func(old []byte) []byte {
		nw := splice(old, 100<<20, 0, []byte{'X'})
		return splice(nw, 200<<20, 1, nil)
	}},
	{"c_1MiB_appended", func(old []byte) []byte {
		return append(bytes.Clone(old), randBytes(7001, 1<<20)...)
	}},
}

// changeTraffic is what the receiver of a change would move with this
// package: pieces it has are skipped, FindKnown (skipping the old file's
// pieces it has) locates shifted ones, the rest
// come as deltas against the BasisRange of the old file (or whole, where the
// old file has no bytes there).
type changeTraffic struct {
	found, deltas, whole int
	sigBytes, deltaBytes int
	wholeBytes           int64
}

func receiveChange(tb testing.TB, old, nw []byte, mOld, mNew *manifest.Manifest) changeTraffic {
	have := map[manifest.ID]bool{}
	for _, p := range mOld.Pieces {
		have[p.Hash] = true
	}
	var want []int
	for i, p := range mNew.Pieces {
		if !have[p.Hash] {
			want = append(want, i)
		}
	}
	known := KnownRanges(mOld, mNew, want)
	res, err := FindKnown(context.Background(), bytes.NewReader(old), int64(len(old)), mNew, want, known)
	if err != nil {
		tb.Fatal(err)
	}
	var tr changeTraffic
	tr.found = len(res.Matches)
	located := map[int]bool{}
	for _, mt := range res.Matches {
		located[mt.Piece] = true
	}
	for _, i := range want {
		if located[i] {
			continue
		}
		piece := nw[mNew.PieceOffset(i) : mNew.PieceOffset(i)+mNew.PieceLen(i)]
		off, n := BasisRange(mNew, res.Matches, i, int64(len(old)))
		if n == 0 {
			tr.whole++
			tr.wholeBytes += int64(len(piece))
			continue
		}
		basis := old[off : off+n]
		sig, err := Sign(basis, 0)
		if err != nil {
			tb.Fatal(err)
		}
		se, err := sig.MarshalBinary()
		if err != nil {
			tb.Fatal(err)
		}
		d, err := Diff(sig, piece)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := Apply(basis, d, mNew.Pieces[i].Hash, len(piece)); err != nil {
			tb.Fatal(err)
		}
		tr.deltas++
		tr.sigBytes += len(se)
		tr.deltaBytes += len(d)
	}
	return tr
}

// BenchmarkChangeCases runs the receiver's and the source's delta work for
// the three changes of the rsync comparison on a 256 MiB file with 1 MiB
// pieces, and reports the bytes that would cross the network: recv-B (what
// the receiver gets: deltas and whole pieces) and sig-B (signatures it
// sends). Compare with rsync's figures from benchmarks/rsync.sh.
func BenchmarkChangeCases(b *testing.B) {
	old := randBytes(6000, benchSize)
	mOld := manifestOf(old, benchPiece)
	for _, c := range changeCases {
		b.Run(c.name, func(b *testing.B) {
			nw := c.edit(old)
			mNew := manifestOf(nw, benchPiece)
			b.SetBytes(int64(len(nw)))
			b.ResetTimer()
			cpu0, n := cpuTime(), 0
			var tr changeTraffic
			for b.Loop() {
				tr = receiveChange(b, old, nw, mOld, mNew)
				n++
			}
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(cpu.Seconds()/float64(n), "cpu-s/op")
			}
			b.ReportMetric(float64(int64(tr.deltaBytes)+tr.wholeBytes), "recv-B")
			b.ReportMetric(float64(tr.sigBytes), "sig-B")
			b.ReportMetric(float64(tr.found), "found")
			b.ReportMetric(float64(tr.deltas), "deltas")
			b.ReportMetric(float64(tr.whole), "whole")
		})
	}
}
