package tracker

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// Revocation and rotation (docs/ACCESS.md, "Removing a member" and
// "Rotating the token"). Both buckets are new in states written before
// them and are created empty.
var (
	// bucketRemoved: device ID -> when it was removed (ns, 8 bytes BE). A
	// removed device is refused from then on, unless it presents a secret
	// made after its removal.
	bucketRemoved = []byte("removed")
	// bucketRetired: SHA-256(former tracker secret) -> when it was replaced
	// (ns, 8 bytes BE). A member presenting it is still admitted; a new
	// device is refused.
	bucketRetired = []byte("retired")

	// metaSecretMade is when the tracker's own secret was made by a
	// rotation (ns, 8 bytes BE); absent for the secret of the first start.
	metaSecretMade = []byte("secret_made")
)

// secretKind says what a presented join secret is.
type secretKind int

const (
	secretValid   secretKind = iota // the tracker's own, or an issued one not expired
	secretExpired                   // an issued one past its expiry
	secretRetired                   // a former tracker secret, replaced by a rotation
)

// joinSecret is a resolved join secret: the folders it grants, what it is,
// and when it was made (zero: the tracker's first secret, or unknown).
type joinSecret struct {
	grant Grant
	kind  secretKind
	made  time.Time
}

// loadRevocations creates the buckets of this file and reads when the
// tracker's secret was made (called by loadAccess in a writable tx).
func (a accessTable) loadRevocations(tx *bolt.Tx) error {
	for _, b := range [][]byte{bucketRemoved, bucketRetired} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	if m := tx.Bucket(bucketMeta); m != nil {
		if v := m.Get(metaSecretMade); len(v) == 8 {
			a.st.secretMade = nsTime(int64(binary.BigEndian.Uint64(v)))
		}
	}
	return nil
}

// ownSecret returns the tracker's current secret and when it was made.
func (a accessTable) ownSecret() ([SecretSize]byte, time.Time) {
	a.st.mu.RLock()
	defer a.st.mu.RUnlock()
	return a.st.secret, a.st.secretMade
}

// retiredAt reports whether secret is a former tracker secret.
func (a accessTable) retiredAt(secret []byte) bool {
	h := sha256.Sum256(secret)
	var found bool
	_ = a.st.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketRetired); b != nil {
			found = b.Get(h[:]) != nil
		}
		return nil
	})
	return found
}

// removedAt returns when device d was removed, if it was and has not
// joined again since.
func (a accessTable) removedAt(d identity.DeviceID) (time.Time, bool) {
	var v []byte
	_ = a.st.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketRemoved); b != nil {
			v = append(v, b.Get(d[:])...)
		}
		return nil
	})
	if len(v) != 8 {
		return time.Time{}, false
	}
	return nsTime(int64(binary.BigEndian.Uint64(v))), true
}

// rotateSecret replaces the tracker's own secret with one read from rnd,
// durably: the former one is kept as retired (members presenting it are
// still admitted; new devices are refused). It returns the new secret.
func (a accessTable) rotateSecret(now time.Time, rnd io.Reader) ([SecretSize]byte, error) {
	s := a.st
	var sec [SecretSize]byte
	if _, err := io.ReadFull(rnd, sec[:]); err != nil {
		return sec, fmt.Errorf("tracker: generate join secret: %w", err)
	}
	var prev [SecretSize]byte
	var prevMade time.Time
	swapped := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta, retired := tx.Bucket(bucketMeta), tx.Bucket(bucketRetired)
		if meta == nil || retired == nil {
			return errors.New("not a tracker state (no meta or retired table)")
		}
		old := meta.Get(metaSecret)
		if len(old) == SecretSize {
			h := sha256.Sum256(old)
			if err := retired.Put(h[:], be64(uint64(now.UnixNano()))); err != nil {
				return err
			}
		}
		if err := meta.Put(metaSecret, sec[:]); err != nil {
			return err
		}
		if err := meta.Put(metaSecretMade, be64(uint64(now.UnixNano()))); err != nil {
			return err
		}
		// in bbolt's writer turn, so that rotations reach memory in order
		s.mu.Lock()
		prev, prevMade = s.secret, s.secretMade
		s.secret, s.secretMade = sec, time.Unix(0, now.UnixNano())
		s.mu.Unlock()
		swapped = true
		return nil
	})
	if err != nil {
		if swapped {
			s.mu.Lock() // the commit failed: the former secret stays
			s.secret, s.secretMade = prev, prevMade
			s.mu.Unlock()
		}
		return sec, fmt.Errorf("tracker: rotate join secret: %w", err)
	}
	return sec, nil
}

// refusedRemoved is the ERROR of a removed device trying to join again with
// a secret older than its removal.
func refusedRemoved(dev identity.DeviceID) *remoteError {
	return &remoteError{trackerpb.ErrorCode_ERROR_NOT_MEMBER, "not a member: device " + dev.String() + " was removed from this tracker; " +
		"it can join again only with a token made after its removal (dartsync tracker token)"}
}

// rotateToken rotates the secret of the state in dir and rewrites its
// join.token; it is the admin service's rotation, running tracker or not.
func (a *adminService) rotateToken(dir string, rnd io.Reader) (Token, error) {
	sec, err := a.st.acl().rotateSecret(time.Now(), rnd)
	if err != nil {
		return Token{}, err
	}
	// The file gets the current secret, until it is still current after
	// the write: of rotations at once, the file ends with the last one's.
	for {
		cur, _ := a.st.acl().ownSecret()
		if err := replaceTokenFile(tokenPath(dir), Token{Tracker: a.tracker, Secret: cur}); err != nil {
			return Token{}, fmt.Errorf("%w (the new token is in effect; the file still holds an old one)", err)
		}
		if now, _ := a.st.acl().ownSecret(); now == cur {
			break
		}
	}
	return Token{Tracker: a.tracker, Secret: sec}, nil
}

// replaceTokenFile writes the token file at path (0600) through a temporary
// file of its own, then renames it into place.
func replaceTokenFile(path string, t Token) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+TokenFile+"-*")
	if err != nil {
		return fmt.Errorf("tracker: write join token: %w", err)
	}
	_, err = f.WriteString(t.String() + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path) // CreateTemp made it 0600
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("tracker: write join token: %w", err)
	}
	return nil
}

// tokenPath is the join token file of the state directory dir.
func tokenPath(dir string) string { return filepath.Join(dir, TokenFile) }
