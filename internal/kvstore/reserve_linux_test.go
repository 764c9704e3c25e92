package kvstore

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble"

	"github.com/dartsync/dartsync/internal/disktest"
)

// writeUntilRefused commits batches of incompressible values to s, each
// after Room, until Room refuses max times in a row or n batches went in.
// It returns how many were committed and the last refusal. A commit must
// never fail (nor Pebble panic: a failed log write is fatal to it).
func writeUntilRefused(t *testing.T, s *Store, from, n int) (int, error) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(from), 1))
	val := make([]byte, 32<<10)
	done := 0
	for i := from; i < from+n; i++ {
		if err := s.Room(); err != nil {
			if !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, ErrNoRoom) {
				t.Fatalf("Room: %v, want ErrNoRoom (an ENOSPC)", err)
			}
			return done, err
		}
		for j := range val {
			val[j] = byte(r.Uint32())
		}
		if err := s.Set([]byte(fmt.Sprintf("k%06d", i)), val, pebble.Sync); err != nil {
			t.Fatalf("commit %d after Room passed: %v", i, err)
		}
		done++
	}
	return done, nil
}

// TestReserveKeepsFullDiskFromPebble: on a disk that fills up, a store
// whose writer checks Room before every commit never has a write fail
// (Pebble would panic): the reserve file takes the first ENOSPC, then Room
// refuses with ErrNoRoom; once the disk has room, writes go on and the
// reserve is made again. Closing and opening again keeps every write.
func TestReserveKeepsFullDiskFromPebble(t *testing.T) {
	disk := disktest.Mount(t, 48<<20)
	dir := filepath.Join(disk, "store")
	s, err := Open(dir, Options{MemTableSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	reserve := filepath.Join(dir, ReserveName)
	if fi, err := os.Stat(reserve); err != nil || fi.Size() != 4<<20 {
		t.Fatalf("reserve file: %v, %v; want 4 MiB", fi, err)
	}
	disktest.Fill(t, filepath.Join(disk, "fill"))
	n, err := writeUntilRefused(t, s, 0, 1000)
	if err == nil {
		t.Fatalf("%d commits on a full disk, never refused", n)
	}
	t.Logf("%d commits of 32 KiB on the full disk before: %v", n, err)
	if _, err := os.Stat(reserve); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reserve file still there after the disk filled: %v", err)
	}
	// Refused again and again while the disk stays full.
	if m, err := writeUntilRefused(t, s, n, 10); m != 0 || err == nil {
		t.Fatalf("still full: %d commits, %v", m, err)
	}
	if err := os.Remove(filepath.Join(disk, "fill")); err != nil {
		t.Fatal(err)
	}
	if m, err := writeUntilRefused(t, s, n, 20); m != 20 || err != nil {
		t.Fatalf("after the disk has room: %d commits, %v", m, err)
	}
	if fi, err := os.Stat(reserve); err != nil || fi.Size() != 4<<20 {
		t.Errorf("reserve not made again: %v, %v", fi, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{MemTableSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < n+20; i++ {
		if _, ok, err := Get(s, []byte(fmt.Sprintf("k%06d", i))); !ok || err != nil {
			t.Fatalf("k%06d after reopening: %v %v", i, ok, err)
		}
	}
}

// TestOpenFullDisk: a store whose log holds writes not yet in a table
// opens on a disk with its reserve (the reserve pays for the table); with
// neither reserve nor room, Open fails with an error that is an ENOSPC
// (never a panic), and succeeds once there is room.
func TestOpenFullDisk(t *testing.T) {
	for _, tc := range []struct {
		name        string
		dropReserve bool
		wantErr     bool
	}{
		{name: "with its reserve"},
		{name: "without a reserve", dropReserve: true, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			disk := disktest.Mount(t, 32<<20)
			dir := filepath.Join(disk, "store")
			s, err := Open(dir, Options{MemTableSize: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			if m, err := writeUntilRefused(t, s, 0, 20); m != 20 || err != nil {
				t.Fatal(m, err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if tc.dropReserve {
				if err := os.Remove(filepath.Join(dir, ReserveName)); err != nil {
					t.Fatal(err)
				}
			}
			disktest.Fill(t, filepath.Join(disk, "fill"))
			s, err = Open(dir, Options{MemTableSize: 1 << 20})
			if tc.wantErr {
				if err == nil || !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("Open on a full disk: %v, want an ENOSPC", err)
				}
				if err := os.Remove(filepath.Join(disk, "fill")); err != nil {
					t.Fatal(err)
				}
				if s, err = Open(dir, Options{MemTableSize: 1 << 20}); err != nil {
					t.Fatalf("Open with room: %v", err)
				}
			} else if err != nil {
				t.Fatalf("Open on a full disk with a reserve: %v", err)
			}
			defer s.Close()
			if _, ok, err := Get(s, []byte("k000019")); !ok || err != nil {
				t.Fatalf("k000019: %v %v", ok, err)
			}
		})
	}
}
