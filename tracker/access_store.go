package tracker

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// Buckets of the access rules (docs/ACCESS.md). Both are new in states
// written before grants existed and are created empty: every member of such
// a state has every folder, and only the tracker's own token exists.
var (
	bucketAccess = []byte("access") // device ID -> trackerpb.MemberRecord
	bucketTokens = []byte("tokens") // SHA-256(secret) -> trackerpb.TokenRecord
)

// accessTable is the store's access rules: the members' grants (in memory
// under the store's lock, and in bucketAccess) and the issued tokens
// (bucketTokens). Its methods are the store's, grouped apart: get it with
// store.acl.
type accessTable struct{ st *store }

// acl returns the store's access rules.
func (s *store) acl() accessTable { return accessTable{s} }

// maxRecordSize bounds a stored access or token record before it is decoded.
const maxRecordSize = 1 << 20

// loadAccess reads the access table into memory (called by load, s.mu not
// needed: nothing else runs yet).
func (a accessTable) loadAccess(tx *bolt.Tx) error {
	s := a.st
	s.access = map[identity.DeviceID]*trackerpb.MemberRecord{}
	if err := a.loadRevocations(tx); err != nil {
		return err
	}
	return tx.Bucket(bucketAccess).ForEach(func(k, v []byte) error {
		var d identity.DeviceID
		if len(k) != len(d) {
			return fmt.Errorf("corrupt access record key %x", k)
		}
		copy(d[:], k)
		rec, err := decodeMemberRecord(v)
		if err != nil {
			return fmt.Errorf("access record of %s: %w", d.Short(), err)
		}
		s.access[d] = rec
		return nil
	})
}

// decodeMemberRecord decodes and checks a stored MemberRecord.
func decodeMemberRecord(b []byte) (*trackerpb.MemberRecord, error) {
	if len(b) > maxRecordSize {
		return nil, fmt.Errorf("%w: member record of %d bytes", ErrTooLarge, len(b))
	}
	var rec trackerpb.MemberRecord
	if err := proto.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("corrupt member record: %w", err)
	}
	if !rec.AllFolders {
		if _, err := FolderGrant(rec.Folders...); err != nil && len(rec.Folders) > 0 {
			return nil, fmt.Errorf("corrupt member record: %w", err)
		}
	}
	return &rec, nil
}

// decodeTokenRecord decodes and checks a stored TokenRecord.
func decodeTokenRecord(b []byte) (*trackerpb.TokenRecord, error) {
	if len(b) > maxRecordSize {
		return nil, fmt.Errorf("%w: token record of %d bytes", ErrTooLarge, len(b))
	}
	var rec trackerpb.TokenRecord
	if err := proto.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("corrupt token record: %w", err)
	}
	if _, err := FolderGrant(rec.Folders...); err != nil {
		return nil, fmt.Errorf("corrupt token record: %w", err)
	}
	return &rec, nil
}

// grantOf returns the folders member d may sync (nothing for a non-member).
func (a accessTable) grantOf(d identity.DeviceID) Grant {
	s := a.st
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.members[d]; !ok {
		return Grant{}
	}
	return grantFromRecord(s.access[d])
}

// allowsLocked reports whether d is a member granted folder; s.mu is held.
func (a accessTable) allowsLocked(d identity.DeviceID, folder string) bool {
	s := a.st
	if _, ok := s.members[d]; !ok {
		return false
	}
	return grantFromRecord(s.access[d]).Allows(folder)
}

// joinGrant resolves a presented join secret: the tracker's own secret
// grants every folder; an issued one the folders it was issued for. expired
// is set for an issued secret past its expiry and for a former tracker
// secret (still returned: a member that joined with it may present it
// again). Unknown secrets wrap ErrWrongToken.
func (a accessTable) joinGrant(secret []byte, now time.Time) (g Grant, expired bool, err error) {
	js, err := a.resolveSecret(secret, now)
	return js.grant, js.kind != secretValid, err
}

// resolveSecret says what a presented join secret is (joinGrant).
func (a accessTable) resolveSecret(secret []byte, now time.Time) (joinSecret, error) {
	s := a.st
	own, made := a.ownSecret()
	if secretMatches(own, secret) {
		return joinSecret{grant: AllFolders(), made: made}, nil
	}
	if len(secret) != SecretSize {
		return joinSecret{}, fmt.Errorf("%w: secret of %d bytes", ErrWrongToken, len(secret))
	}
	if a.retiredAt(secret) {
		return joinSecret{grant: AllFolders(), kind: secretRetired}, nil
	}
	h := sha256.Sum256(secret)
	var rec *trackerpb.TokenRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketTokens).Get(h[:])
		if v == nil {
			return fmt.Errorf("%w: the secret matches no token of this tracker", ErrWrongToken)
		}
		var err error
		rec, err = decodeTokenRecord(v)
		return err
	})
	if err != nil {
		return joinSecret{}, err
	}
	js := joinSecret{grant: Grant{Folders: rec.Folders}, made: nsTime(rec.CreatedNs)}
	if rec.ExpiresNs != 0 && now.UnixNano() >= rec.ExpiresNs {
		js.kind = secretExpired
	}
	return js, nil
}

// issueToken records a new secret granting g until expires (zero: never) and
// returns the secret. Only its hash is stored.
func (a accessTable) issueToken(g Grant, expires, now time.Time, rnd io.Reader) ([SecretSize]byte, error) {
	s := a.st
	var sec [SecretSize]byte
	if g.All || len(g.Folders) == 0 {
		return sec, fmt.Errorf("tracker: an issued token names its folders (the tracker's own token grants all)")
	}
	if _, err := io.ReadFull(rnd, sec[:]); err != nil {
		return sec, fmt.Errorf("tracker: generate join secret: %w", err)
	}
	rec := &trackerpb.TokenRecord{Folders: g.Folders, CreatedNs: now.UnixNano()}
	if !expires.IsZero() {
		rec.ExpiresNs = expires.UnixNano()
	}
	v, err := proto.Marshal(rec)
	if err != nil {
		return sec, err
	}
	h := sha256.Sum256(sec[:])
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketTokens).Put(h[:], v) }); err != nil {
		return sec, fmt.Errorf("tracker: record token: %w", err)
	}
	return sec, nil
}

// putAccess writes d's access record in tx.
func putAccess(tx *bolt.Tx, d identity.DeviceID, rec *trackerpb.MemberRecord) error {
	v, err := proto.Marshal(rec)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketAccess).Put(d[:], v)
}

// newMemberRecord is the access record of a device joining now with g.
func newMemberRecord(g Grant, now time.Time) *trackerpb.MemberRecord {
	return &trackerpb.MemberRecord{AllFolders: g.All, Folders: slices.Clone(g.Folders), JoinedNs: now.UnixNano()}
}

// updateAccess changes member d's record with edit, durably. It returns
// ErrNotMember if d is not a member. The read, the edit and the in-memory
// copy happen in bbolt's writer turn, so concurrent updates neither lose
// each other nor reach memory out of order; a failed commit reloads the
// record.
func (a accessTable) updateAccess(d identity.DeviceID, edit func(*trackerpb.MemberRecord)) (*trackerpb.MemberRecord, error) {
	s := a.st
	var rec *trackerpb.MemberRecord
	err := s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMembers).Get(d[:]) == nil {
			return fmt.Errorf("%w: %s", ErrNotMember, d)
		}
		rec = &trackerpb.MemberRecord{AllFolders: true}
		if v := tx.Bucket(bucketAccess).Get(d[:]); v != nil {
			var err error
			if rec, err = decodeMemberRecord(v); err != nil {
				return err
			}
		}
		edit(rec)
		if err := putAccess(tx, d, rec); err != nil {
			return err
		}
		s.mu.Lock()
		s.access[d] = rec
		s.mu.Unlock()
		return nil
	})
	if errors.Is(err, ErrNotMember) {
		return nil, err
	}
	if err != nil {
		a.reloadAccess(d)
		return nil, fmt.Errorf("tracker: record access of %s: %w", d.Short(), err)
	}
	return rec, nil
}

// reloadAccess sets the in-memory record of d to what the state holds.
func (a accessTable) reloadAccess(d identity.DeviceID) {
	s := a.st
	var rec *trackerpb.MemberRecord
	_ = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketAccess).Get(d[:]); v != nil {
			rec, _ = decodeMemberRecord(v)
		}
		return nil
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec == nil {
		delete(s.access, d)
		return
	}
	s.access[d] = rec
}

// setGrant replaces member d's grant.
func (a accessTable) setGrant(d identity.DeviceID, g Grant) error {
	_, err := a.updateAccess(d, func(r *trackerpb.MemberRecord) {
		r.AllFolders, r.Folders = g.All, slices.Clone(g.Folders)
		if g.All {
			r.Folders = nil
		}
	})
	return err
}

// removeMember forgets member d: its membership, its grant, and its member
// number (owner lists stop naming it), and records when it was removed
// (bucketRemoved: it is refused from then on, unless it presents a secret
// made later). It returns ErrNotMember if d is not a member. A device that
// joins again gets a new number.
func (a accessTable) removeMember(d identity.DeviceID, now time.Time) error {
	s := a.st
	if _, ok := s.member(d); !ok {
		return fmt.Errorf("%w: %s", ErrNotMember, d)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMembers).Delete(d[:]); err != nil {
			return err
		}
		if err := tx.Bucket(bucketRemoved).Put(d[:], be64(uint64(now.UnixNano()))); err != nil {
			return err
		}
		return tx.Bucket(bucketAccess).Delete(d[:])
	})
	if err != nil {
		return fmt.Errorf("tracker: remove member %s: %w", d.Short(), err)
	}
	s.mu.Lock()
	if n, ok := s.members[d]; ok {
		s.byNum[n] = identity.DeviceID{}
	}
	delete(s.members, d)
	delete(s.access, d)
	s.mu.Unlock()
	return nil
}

// MemberInfo is what the tracker knows of one member (docs/ACCESS.md).
type MemberInfo struct {
	Device identity.DeviceID
	Grant  Grant     // the folders it may sync
	Joined time.Time // zero: joined before grants existed
}

// memberInfos lists every member, ordered by device ID.
func (a accessTable) memberInfos() []MemberInfo {
	s := a.st
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]MemberInfo, 0, len(s.members))
	for d := range s.members {
		rec := s.access[d]
		mi := MemberInfo{Device: d, Grant: grantFromRecord(rec)}
		if rec != nil {
			mi.Joined = nsTime(rec.JoinedNs)
		}
		out = append(out, mi)
	}
	slices.SortFunc(out, func(a, b MemberInfo) int { return a.Device.Compare(b.Device) })
	return out
}

func nsTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}
