package chunkstore

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dartsync/dartsync/manifest"
)

const benchPieces = 64 // 64 MiB partial files of 1 MiB pieces

func benchFile(b *testing.B) ([]byte, manifest.Manifest) {
	data := randomData(7, benchPieces*manifest.DefaultPieceSize)
	return data, buildManifest("bench.bin", data, manifest.DefaultPieceSize)
}

// BenchmarkWritePiece: verified 1 MiB pieces into a partial download
// (hash check, WriteAt, group-committed fdatasync + record), one writer.
func BenchmarkWritePiece(b *testing.B) { benchWrite(b, (*Partial).WritePiece) }

// BenchmarkWriteVerifiedPiece: the same without the second hash (the
// fetcher has verified the piece).
func BenchmarkWriteVerifiedPiece(b *testing.B) { benchWrite(b, (*Partial).WriteVerifiedPiece) }

func benchWrite(b *testing.B, write func(p *Partial, i int, data []byte) error) {
	data, m := benchFile(b)
	s := openStore(b, b.TempDir())
	defer s.Close()
	b.SetBytes(manifest.DefaultPieceSize)
	var p *Partial
	for i := 0; b.Loop(); i++ {
		k := i % benchPieces
		if k == 0 {
			b.StopTimer()
			if p != nil {
				p.Discard()
			}
			var err error
			if p, err = s.Partial(&m); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		if err := write(p, k, piece(data, manifest.DefaultPieceSize, k)); err != nil {
			b.Fatal(err)
		}
		if k == benchPieces-1 {
			if err := p.Sync(); err != nil { // the last batch is durable too
				b.Fatal(err)
			}
		}
	}
	p.Discard()
}

// BenchmarkDownloadCommit: a whole 64 MiB file written piece by piece by two
// writers and committed (fsync + rename + index), per byte.
func BenchmarkDownloadCommit(b *testing.B) {
	data, m := benchFile(b)
	root := b.TempDir()
	s := openStore(b, root)
	defer s.Close()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		p, err := s.Partial(&m)
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			for k := 1; k < benchPieces; k += 2 {
				if err := p.WritePiece(k, piece(data, manifest.DefaultPieceSize, k)); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		for k := 0; k < benchPieces; k += 2 {
			if err := p.WritePiece(k, piece(data, manifest.DefaultPieceSize, k)); err != nil {
				b.Fatal(err)
			}
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		if err := p.Commit(filepath.Join(root, "bench.bin")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadPiece: the uploader's path (lookup, open, read, verify) for
// 1 MiB pieces of a complete file in the page cache.
func BenchmarkReadPiece(b *testing.B) {
	data, m := benchFile(b)
	root := b.TempDir()
	writeFile(b, root, "bench.bin", data)
	s := openStore(b, root)
	defer s.Close()
	if err := s.AddFile(&m); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, manifest.DefaultPieceSize)
	b.SetBytes(manifest.DefaultPieceSize)
	for i := 0; b.Loop(); i++ {
		if _, err := s.ReadPiece(m.Pieces[i%benchPieces].Hash, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommitSmallFiles: one-piece 4 KiB downloads (Partial,
// WriteVerifiedPiece, Commit into 10 directories) by 4 goroutines at once,
// as the peer's puller runs them; files/s. Every commit is durable (data
// fsync, rename, directory fsync, index).
func BenchmarkCommitSmallFiles(b *testing.B) {
	const files, workers = 400, 4
	root := b.TempDir()
	s := openStore(b, root)
	defer s.Close()
	for d := range 10 {
		if err := os.MkdirAll(filepath.Join(root, fmt.Sprintf("d%d", d)), 0o755); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	start := time.Now()
	for b.Loop() {
		b.StopTimer()
		ms := make([]manifest.Manifest, files)
		datas := make([][]byte, files)
		for i := range ms {
			datas[i] = randomData(uint64(n), 4<<10)
			ms[i] = buildManifest(fmt.Sprintf("d%d/f%06d", i*10/files, n), datas[i], manifest.DefaultPieceSize)
			n++
		}
		b.StartTimer()
		var g errgroup.Group
		g.SetLimit(workers)
		for i := range ms {
			g.Go(func() error {
				p, err := s.Partial(&ms[i])
				if err != nil {
					return err
				}
				if err := p.WriteVerifiedPiece(0, datas[i]); err != nil {
					return err
				}
				return p.Commit(filepath.Join(root, filepath.FromSlash(ms[i].Path)))
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "files/s")
}
