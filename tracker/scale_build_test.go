package tracker

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// Scale state (BenchmarkTrackerScale): N files (loadManifest) owned by
// scaleMembers members, then scaleDayChanges edits ("a day" of changes)
// spread over the table. Built through store.apply in large batches.
const (
	scaleMembers    = 16
	scaleDayChanges = 10_000
	scaleChunk      = 20_000 // files per transaction while building
)

// scaleState is a built state and what the benchmark needs to know of it.
type scaleState struct {
	dir      string               // the state directory (state.db, the tracker's identity)
	members  []*identity.Identity // the scaleMembers members
	epoch    Epoch                // the (cleanly ended) epoch that built it
	dayStart uint64               // the sequence number before the day's changes
	seq      uint64               // the last sequence number
	build    time.Duration        // how long building took (0: reused from the cache)
}

// scaleFiles is the number of files: DARTSYNC_SCALE_FILES or 1 000 000.
func scaleFiles() int {
	if v, err := strconv.Atoi(os.Getenv("DARTSYNC_SCALE_FILES")); err == nil && v >= scaleDayChanges {
		return v
	}
	return 1_000_000
}

// scaleEdit returns a new version of file i (based on its version v).
func scaleEdit(i, v int, base manifest.ID) manifest.Manifest {
	m := loadManifest(i)
	var seed [16]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(i))
	binary.LittleEndian.PutUint64(seed[8:], uint64(v))
	m.Pieces = []manifest.Piece{{Hash: manifest.Hash(seed[:]), Weak: uint32(v)}}
	m.ID = manifest.FileID(m.Size, m.PieceSize, m.Pieces)
	m.ModTime += int64(v)
	m.Base = base
	return m
}

// prepareScaleState returns a copy (in a temporary directory) of the state
// of n files. With DARTSYNC_SCALE_CACHE set, the state is built once into
// that directory (per n) and copied from there on later runs, so that runs
// of different code measure the same state.
func prepareScaleState(b *testing.B, n int) *scaleState {
	b.Helper()
	src := filepath.Join(b.TempDir(), "built")
	if c := os.Getenv("DARTSYNC_SCALE_CACHE"); c != "" {
		src = filepath.Join(c, strconv.Itoa(n))
	}
	st, err := loadScaleMeta(src)
	if err != nil {
		if err := os.RemoveAll(src); err != nil {
			b.Fatal(err)
		}
		if st, err = buildScaleState(src, n); err != nil {
			b.Fatal(err)
		}
	}
	dst := filepath.Join(b.TempDir(), "state")
	if err := copyDir(src, dst); err != nil {
		b.Fatal(err)
	}
	st.dir = dst
	return st
}

func buildScaleState(dir string, n int) (*scaleState, error) {
	start := time.Now()
	st := &scaleState{dir: dir}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s, err := openStore(filepath.Join(dir, StateFile), nil)
	if err != nil {
		return nil, err
	}
	defer s.close(endEpoch)
	nums := make([]uint32, scaleMembers)
	for i := range scaleMembers {
		id, err := identity.LoadOrCreate(filepath.Join(dir, fmt.Sprintf("member%02d", i)))
		if err != nil {
			return nil, err
		}
		st.members = append(st.members, id)
		if nums[i], _, err = s.addMember(id.ID); err != nil {
			return nil, err
		}
	}
	// Each chunk of files is reported by the first member (store.commit, as
	// the group commit runs it); the other members are then written into
	// the records' owner lists directly. Announcing them through apply
	// rewrites every record 15 more times: at a million files that is most
	// of an hour on a shared 2-core machine, for the same final rows.
	commit := func(want Outcome, r *applyReq) error {
		if err := s.commit([]*applyReq{r}); err != nil {
			return err
		}
		for _, res := range r.results {
			if res.Outcome != want {
				return fmt.Errorf("build: %s: %v, want %v (%v)", res.Path, res.Outcome, want, res.Err)
			}
		}
		return nil
	}
	for lo := 0; lo < n; lo += scaleChunk {
		hi := min(lo+scaleChunk, n)
		first := make([]Change, 0, hi-lo)
		for i := lo; i < hi; i++ {
			first = append(first, Change{New: loadManifest(i)})
		}
		if err := commit(Accepted, &applyReq{reporter: nums[0], changes: first}); err != nil {
			return nil, err
		}
		if err := setOwners(s, first, nums); err != nil {
			return nil, err
		}
	}
	st.dayStart = s.current()
	stride := n / scaleDayChanges
	day := make([]Change, 0, scaleDayChanges)
	for j := range scaleDayChanges {
		i := j * stride
		day = append(day, Change{New: scaleEdit(i, 1, loadManifest(i).ID)})
	}
	if err := commit(Accepted, &applyReq{reporter: nums[0], changes: day}); err != nil {
		return nil, err
	}
	st.seq, st.epoch, st.build = s.current(), s.currentEpoch(), time.Since(start)
	meta := fmt.Sprintf("%s %d %d %d\n", st.epoch, st.dayStart, st.seq, st.build)
	return st, os.WriteFile(filepath.Join(dir, "scale.meta"), []byte(meta), 0o600)
}

// setOwners rewrites the owner lists of the rows of cs (all in the default
// folder) to owners, keeping everything else.
func setOwners(s *store, cs []Change, owners []uint32) error {
	owners = slices.Sorted(slices.Values(owners))
	return s.db.Update(func(tx *bolt.Tx) error {
		files := tx.Bucket(bucketFiles)
		files.FillPercent = filesFillPercent
		for i := range cs {
			k := fileKey("", cs[i].New.Path)
			var rec trackerpb.EntryRecord
			if err := proto.Unmarshal(files.Get(k), &rec); err != nil {
				return err
			}
			rec.Owners = owners
			rb, err := proto.Marshal(&rec)
			if err != nil {
				return err
			}
			if err := files.Put(k, rb); err != nil {
				return err
			}
		}
		return nil
	})
}

// loadScaleMeta reads a state built before (scale.meta is written last).
func loadScaleMeta(dir string) (*scaleState, error) {
	b, err := os.ReadFile(filepath.Join(dir, "scale.meta"))
	if err != nil {
		return nil, err
	}
	f := strings.Fields(string(b))
	if len(f) != 4 {
		return nil, fmt.Errorf("scale.meta: %q", b)
	}
	st := &scaleState{dir: dir}
	e, err := hex.DecodeString(f[0])
	if err != nil || len(e) != EpochSize {
		return nil, fmt.Errorf("scale.meta epoch %q: %v", f[0], err)
	}
	copy(st.epoch[:], e)
	if st.dayStart, err = strconv.ParseUint(f[1], 10, 64); err != nil {
		return nil, err
	}
	if st.seq, err = strconv.ParseUint(f[2], 10, 64); err != nil {
		return nil, err
	}
	for i := range scaleMembers {
		id, err := identity.LoadOrCreate(filepath.Join(dir, fmt.Sprintf("member%02d", i)))
		if err != nil {
			return nil, err
		}
		st.members = append(st.members, id)
	}
	return st, nil
}

// copyDir copies the regular files of src (one level of subdirectories).
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o700)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		w, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, in); err != nil {
			w.Close()
			return err
		}
		return w.Close()
	})
}
