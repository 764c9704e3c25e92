package tracker

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker/admin"
)

// ErrTrackerRunning: see the package documentation.
var ErrTrackerRunning = errors.New("the state is in use by a running tracker")

// StateAdmin is the admin API on a tracker state opened while no tracker
// runs on it (docs/ACCESS.md). It begins no epoch and changes nothing but
// members, grants, tokens and the join secret (join.token too): a tracker
// started later finds them. Close it
// before starting the tracker.
type StateAdmin struct {
	adminService
}

// OpenStateAdmin opens the state in dir for the admin commands. It fails
// with ErrTrackerRunning if a tracker holds it, and if dir holds no
// tracker state (no state.db or no join.token: the tracker never ran).
func OpenStateAdmin(dir string) (*StateAdmin, error) {
	tb, err := os.ReadFile(filepath.Join(dir, TokenFile))
	if err != nil {
		return nil, fmt.Errorf("tracker: no tracker state in %s: %w", dir, err)
	}
	tok, err := ParseToken(string(tb))
	if err != nil {
		return nil, fmt.Errorf("tracker: %s: %w", filepath.Join(dir, TokenFile), err)
	}
	path := filepath.Join(dir, StateFile)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("tracker: no tracker state in %s: %w", dir, err)
		}
		return nil, fmt.Errorf("tracker: %w", err)
	}
	db, err := bolt.Open(path, 0o600, boltOptions(200*time.Millisecond))
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("tracker: open %s: %w", path, ErrTrackerRunning)
		}
		return nil, fmt.Errorf("tracker: open %s: %w", path, err)
	}
	s := &store{db: db, members: map[identity.DeviceID]uint32{}, byNum: []identity.DeviceID{{}}}
	err = db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMembers) == nil {
			return errors.New("not a tracker state (no members table)")
		}
		for _, b := range [][]byte{bucketAccess, bucketTokens} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if m := tx.Bucket(bucketMeta); m != nil && len(m.Get(metaSecret)) == SecretSize {
			v := m.Get(metaSecret)
			copy(s.secret[:], v)
		}
		return s.loadMembers(tx)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("tracker: open %s: %w", path, err)
	}
	devices, err := loadDevices(db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &StateAdmin{adminService{st: s, devices: devices, tracker: tok.Tracker, dir: dir}}, nil
}

// Close closes the state.
func (a *StateAdmin) Close() error { return a.st.db.Close() }

var _ admin.Service = (*StateAdmin)(nil)
