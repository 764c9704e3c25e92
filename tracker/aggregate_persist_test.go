package tracker

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/dartsync/dartsync/manifest"
)

// buildAggState makes a state with two folders, an owner added, a conflict
// copy, a deletion and a directory, closes it and returns its path and the
// aggregates the commits kept.
func buildAggState(t *testing.T) (string, aggSnapshot, int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), StateFile)
	s, err := openStore(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, nums := addTestMembers(t, s, 2)
	a1, a2 := nums[0], nums[1]
	apply := func(folder string, who uint32, cs ...Change) {
		t.Helper()
		if _, err := s.apply(folder, who, cs); err != nil {
			t.Fatal(err)
		}
	}
	x := testFile("x.txt", "hello", t0, manifest.ID{})
	y := testFile("dir/y.bin", "yyyyyyyy", t0, manifest.ID{})
	apply("", a1, Change{New: x}, Change{New: y}, Change{New: testDir("dir", t0, manifest.ID{})})
	apply("other", a1, Change{New: testFile("z", "zz", t0, manifest.ID{})})
	apply("", a2, Change{New: x, OwnershipOnly: true})
	apply("", a1, Change{New: testFile("x.txt", "hello, one", t0+1, x.ID)})
	apply("", a2, Change{New: testFile("x.txt", "hello, two!", t0+2, x.ID)}) // a conflict
	apply("", a1, Change{New: manifest.NewTombstone(y.Path, manifest.KindFile, y.ID, t0+3)})
	kept := snapshot(s.agg)
	files, _ := s.counts()
	if len(kept.Conflicts) != 1 || files != 5 {
		t.Fatalf("state: %+v, %d rows", kept, files)
	}
	if err := s.close(endEpoch); err != nil {
		t.Fatal(err)
	}
	return path, kept, files
}

// makeVersion1 turns the state at path into what a tracker of schema
// version 1 left: no free-page list written, version 1, and totals and a
// conflict index as garbage stands for (a migration interrupted before it
// committed leaves none; the test gives it wrong ones to show they are
// replaced, not added to).
func makeVersion1(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMeta).Put(metaVersion, be64(1)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketTotals).Put(folderTotalsKey(""), encodeFolderTotals(&folderTotals{rows: 1000, files: 999, bytes: 1 << 40})); err != nil {
			return err
		}
		if err := tx.Bucket(bucketTotals).Put(memberTotalsKey(77), []byte{5}); err != nil {
			return err
		}
		return tx.Bucket(bucketConflictIndex).Put(fileKey("", "gone.sync-conflict-20260102-030405-X"), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func stateVersion(t *testing.T, s *store) uint64 {
	t.Helper()
	var v uint64
	_ = s.db.View(func(tx *bolt.Tx) error {
		v = binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(metaVersion))
		return nil
	})
	return v
}

// TestTotalsSurviveRestart: the totals a restarted store reads are the ones
// the commits kept, without scanning the files table.
func TestTotalsSurviveRestart(t *testing.T) {
	path, kept, rows := buildAggState(t)
	s, err := openStore(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close(endEpoch)
	if got := snapshot(s.agg); !reflect.DeepEqual(got, kept) {
		t.Fatalf("after restart %+v\nkept          %+v", got, kept)
	}
	if files, members := s.counts(); files != rows || members != 2 {
		t.Fatalf("counts %d %d, want %d 2", files, members, rows)
	}
	cs, n := (&Server{store: s}).Overview().ConflictCopies(10)
	if n != 1 || !IsConflictCopy(cs[0].Path) || cs[0].Owners != 1 {
		t.Fatalf("conflict copies after restart: %+v", cs)
	}
}

// TestMigrateTotalsFromVersion1: a state of schema version 1 (no recorded
// totals, or an interrupted migration's leftovers) is migrated at open: the
// totals are those of the files table, the version is 2, and opening again
// changes nothing.
func TestMigrateTotalsFromVersion1(t *testing.T) {
	path, kept, rows := buildAggState(t)
	makeVersion1(t, path)
	for i := range 2 {
		s, err := openStore(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := snapshot(s.agg); !reflect.DeepEqual(got, kept) {
			t.Fatalf("migrated %+v\nkept     %+v", got, kept)
		}
		if files, _ := s.counts(); files != rows {
			t.Fatalf("%d rows, want %d", files, rows)
		}
		if v := stateVersion(t, s); v != schemaVersion {
			t.Fatalf("version %d after open, want %d", v, schemaVersion)
		}
		// the migrated state goes on counting
		_, nums := addTestMembers(t, s, 1)
		if _, err := s.apply("other", nums[0], reports(testFile(fmt.Sprint("w", i), "www", t0, manifest.ID{}))); err != nil {
			t.Fatal(err)
		}
		kept.Folders["other"] = [2]uint64{kept.Folders["other"][0] + 1, kept.Folders["other"][1] + 3}
		kept.Rows["other"]++
		kept.Owned[nums[0]] = 1
		rows++
		if got := snapshot(s.agg); !reflect.DeepEqual(got, kept) {
			t.Fatalf("after a commit %+v\nwant           %+v", got, kept)
		}
		if err := s.close(endEpoch); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStateOfANewerSchemaRefused: a state written by a later schema is not
// opened (nor changed).
func TestStateOfANewerSchemaRefused(t *testing.T) {
	path, _, _ := buildAggState(t)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaVersion, be64(schemaVersion+1)) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := openStore(path, nil); err == nil || !strings.Contains(err.Error(), "unknown state schema version") {
		t.Fatalf("open of a newer state: %v", err)
	}
}
