package tracker

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
)

// t0 is the modification time used by test manifests (2026-01-02 03:04:05 UTC).
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano()

// testFile returns the manifest of a regular file with the given content
// (pieces of manifest.MinPieceSize), modification time and base.
func testFile(path, content string, mtime int64, base manifest.ID) manifest.Manifest {
	const ps = manifest.MinPieceSize
	data := []byte(content)
	var pieces []manifest.Piece
	for off := 0; off < len(data); off += ps {
		end := min(off+ps, len(data))
		pieces = append(pieces, manifest.Piece{Hash: manifest.Hash(data[off:end]), Weak: manifest.WeakSum(data[off:end])})
	}
	return manifest.Manifest{
		Path: path, Size: int64(len(data)), ModTime: mtime, PieceSize: ps, Pieces: pieces,
		ID: manifest.FileID(int64(len(data)), ps, pieces), Base: base,
	}
}

func testDir(path string, mtime int64, base manifest.ID) manifest.Manifest {
	d := manifest.NewDir(path, mtime)
	d.Base = base
	return d
}

func newTestIdentity(t testing.TB) *identity.Identity {
	t.Helper()
	id, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func openTestStore(t testing.TB) *store {
	t.Helper()
	s, err := openStore(filepath.Join(t.TempDir(), "state.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.close(endEpoch) })
	return s
}

// reports returns ms as plain reports (no ownership announcements).
func reports(ms ...manifest.Manifest) []Change {
	out := make([]Change, len(ms))
	for i := range ms {
		out[i] = Change{New: ms[i]}
	}
	return out
}

// addTestMembers adds n new devices to s as members and returns their IDs
// and member numbers.
func addTestMembers(t testing.TB, s *store, n int) ([]identity.DeviceID, []uint32) {
	t.Helper()
	devs := make([]identity.DeviceID, n)
	nums := make([]uint32, n)
	for i := range devs {
		devs[i] = newTestIdentity(t).ID
		var err error
		if nums[i], _, err = s.addMember(devs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return devs, nums
}
