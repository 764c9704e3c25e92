package tracker

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// Reads of the files table and the change log: what pushes send and
// lookups return.

// since returns the entries of folder changed after sequence number after,
// in sequence order, each already encoded as a trackerpb.Entry: at most
// maxEntries and about maxBytes (at least one entry if any). Stored manifests
// are copied into the encoding without being decoded. next is the sequence
// number to continue from; it equals after when nothing was scanned.
func (s *store) since(folder string, after uint64, maxEntries, maxBytes int) (entries [][]byte, next uint64, err error) {
	next = after
	prefix := fileKey(folder, "")
	err = s.db.View(func(tx *bolt.Tx) error {
		files := tx.Bucket(bucketFiles)
		c := tx.Bucket(bucketLog).Cursor()
		size := 0
		for k, key := c.Seek(be64(after + 1)); k != nil; k, key = c.Next() {
			if len(entries) >= maxEntries || (len(entries) > 0 && size >= maxBytes) {
				break
			}
			next = binary.BigEndian.Uint64(k)
			if !bytes.HasPrefix(key, prefix) {
				continue
			}
			e, err := s.encodeEntry(files, key)
			if err != nil {
				return err
			}
			entries = append(entries, e)
			size += len(e)
			if len(entries)%64 == 0 {
				s.mapped(tx, 64*readsPerRecord/2)
			}
		}
		s.mapped(tx, len(entries)%64*readsPerRecord/2+1)
		return nil
	})
	if err != nil {
		return nil, after, fmt.Errorf("tracker: read changes since %d: %w", after, err)
	}
	return entries, next, nil
}

// Field numbers of trackerpb.Entry, used to encode pushed entries without
// decoding the stored manifest (TestEncodeEntryMatchesSchema checks them).
const (
	entryFieldManifest protowire.Number = 1
	entryFieldOwners   protowire.Number = 2
	entryFieldSeq      protowire.Number = 3
)

// encodeEntry returns the trackerpb.Entry encoding of key's current entry.
func (s *store) encodeEntry(files *bolt.Bucket, key []byte) ([]byte, error) {
	rb := files.Get(key)
	if rb == nil {
		return nil, fmt.Errorf("change log names %q, which has no entry", key)
	}
	var rec trackerpb.EntryRecord
	if err := proto.Unmarshal(rb, &rec); err != nil {
		return nil, fmt.Errorf("corrupt entry of %q: %w", key, err)
	}
	mb := rec.Manifest
	e := make([]byte, 0, len(mb)+8+len(rec.Owners)*34+12)
	e = protowire.AppendTag(e, entryFieldManifest, protowire.BytesType)
	e = protowire.AppendBytes(e, mb)
	f, _, _ := bytes.Cut(key, []byte{0})
	folder := string(f)
	s.mu.RLock()
	for _, o := range rec.Owners {
		var d identity.DeviceID
		if int(o) < len(s.byNum) {
			d = s.byNum[o]
		}
		if !s.acl().allowsLocked(d, folder) {
			continue // a removed member, or one no longer granted the folder (docs/ACCESS.md)
		}
		e = protowire.AppendTag(e, entryFieldOwners, protowire.BytesType)
		e = protowire.AppendBytes(e, d[:])
	}
	s.mu.RUnlock()
	e = protowire.AppendTag(e, entryFieldSeq, protowire.VarintType)
	return protowire.AppendVarint(e, rec.Seq), nil
}

// readEntry decodes key's current entry.
func (s *store) readEntry(files *bolt.Bucket, key []byte) (*trackerpb.Entry, error) {
	b, err := s.encodeEntry(files, key)
	if err != nil {
		return nil, err
	}
	var e trackerpb.Entry
	if err := proto.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("corrupt manifest of %q: %w", key, err)
	}
	return &e, nil
}

// lookup returns the current entry of folder/path.
func (s *store) lookup(folder, path string) (Entry, bool, error) {
	var pe *trackerpb.Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		key := fileKey(folder, path)
		if tx.Bucket(bucketFiles).Get(key) == nil {
			return nil
		}
		var err error
		pe, err = s.readEntry(tx.Bucket(bucketFiles), key)
		return err
	})
	if err != nil || pe == nil {
		return Entry{}, false, err
	}
	e, err := entryFromPB(pe)
	return e, err == nil, err
}
