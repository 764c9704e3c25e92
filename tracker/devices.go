package tracker

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	bolt "go.etcd.io/bbolt"

	"github.com/dartsync/dartsync/internal/identity"
)

// bucketDevices holds what the tracker remembers of each device for its
// dashboard: device ID (32 bytes) -> deviceInfo as JSON. Informational:
// nothing decides on it.
var bucketDevices = []byte("devices")

// Limits of what a device tells about itself (REGISTER.device_name, version).
const (
	maxDeviceName    = 255
	maxDeviceVersion = 64
)

// deviceInfo is what a device last told the tracker about itself and when
// it was last seen.
type deviceInfo struct {
	Name     string    `json:"name,omitempty"`
	Version  string    `json:"version,omitempty"`
	Addr     string    `json:"addr,omitempty"` // its last address: piece server, else its connection
	LastSeen time.Time `json:"last_seen"`
}

// deviceBook is the devices' information, in memory and in bucketDevices.
// mu is never held across I/O.
type deviceBook struct {
	db *bolt.DB
	mu sync.Mutex
	m  map[identity.DeviceID]deviceInfo
}

// loadDevices reads bucketDevices (creating it). A record that cannot be
// read is skipped: it is only shown.
func loadDevices(db *bolt.DB) (*deviceBook, error) {
	b := &deviceBook{db: db, m: map[identity.DeviceID]deviceInfo{}}
	err := db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(bucketDevices)
		if err != nil {
			return err
		}
		return bk.ForEach(func(k, v []byte) error {
			var d identity.DeviceID
			var di deviceInfo
			if len(k) != len(d) || json.Unmarshal(v, &di) != nil {
				return nil
			}
			copy(d[:], k)
			b.m[d] = di
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("tracker: devices: %w", err)
	}
	return b, nil
}

// get returns what is known of d.
func (b *deviceBook) get(d identity.DeviceID) (deviceInfo, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	di, ok := b.m[d]
	return di, ok
}

// seen records that d registered (name, version and addr from it) or left
// (name and version empty: kept), at time now, in memory and on disk.
func (b *deviceBook) seen(d identity.DeviceID, name, version, addr string, now time.Time) error {
	b.mu.Lock()
	di := b.m[d]
	if name != "" {
		di.Name = name
	}
	if version != "" {
		di.Version = version
	}
	if addr != "" {
		di.Addr = addr
	}
	di.LastSeen = now
	b.m[d] = di
	b.mu.Unlock()
	v, err := json.Marshal(di)
	if err != nil {
		return err
	}
	return b.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketDevices).Put(d[:], v) })
}

// cleanLabel makes what a device says about itself showable: valid UTF-8,
// no control characters, at most n bytes.
func cleanLabel(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(cutRunes(s, n))
}
