package chunkstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble"

	"github.com/dartsync/dartsync/manifest"
)

// fileRefs is the ref of each path of one write's file records (absent:
// none), read by lookupFiles and kept current by remove and put; it is as
// large as the write, not as the store.
type fileRefs map[string]uint64

// lookupFiles reads the file records of paths in one pass of one iterator,
// in key order: a scan's batch is mostly paths of the same directories,
// whose records share blocks, where a point read each would look every
// path up anew (and, for a new path, in every level).
func lookupFiles(t *tx, paths []string) (fileRefs, error) {
	out := make(fileRefs, len(paths))
	if len(paths) == 0 {
		return out, nil
	}
	sorted := slices.Clone(paths)
	slices.Sort(sorted)
	it, err := t.b.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixFiles}, UpperBound: []byte{prefixFiles + 1}})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	key := make([]byte, 0, 256)
	for i, p := range sorted {
		if i > 0 && p == sorted[i-1] {
			continue
		}
		key = append(append(key[:0], prefixFiles), p...)
		if !it.SeekGE(key) || !bytes.Equal(it.Key(), key) {
			continue
		}
		ref, n := binary.Uvarint(it.Value())
		if n <= 0 || n != len(it.Value()) {
			return nil, fmt.Errorf("corrupt file record for %q", p)
		}
		out[p] = ref
	}
	return out, it.Error()
}

// remove deletes the file record of path and its ref, if any.
func (f fileRefs) remove(t *tx, path string) error {
	ref, ok := f[path]
	if !ok {
		return nil
	}
	delete(f, path)
	if err := t.del(fileKey(path)); err != nil {
		return err
	}
	return removeRef(t, ref)
}

// put records the complete file m at the folder-relative path rel under
// ref (with no file record for rel: remove first): the file record, the
// ref record (with the stamp m gives: while the file still has its size and
// modification time, ReadPieceForUpload trusts its bytes; a manifest
// without a modification time records none) and the location of every
// piece.
func (f fileRefs) put(t *tx, ref uint64, rel string, m *manifest.Manifest, age refAge) error {
	if err := t.put(refKey(ref), encodeRef(fileRec(rel, m))); err != nil {
		return err
	}
	if err := t.put(fileKey(rel), binary.AppendUvarint(nil, ref)); err != nil {
		return err
	}
	f[rel] = ref
	return putPieces(t, ref, m, nil, age)
}
