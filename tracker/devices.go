package tracker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
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

// devicesFlushPeriod is how often what changed in the device book is
// written: registrations cost no disk write of their own (an SD card lasts).
const devicesFlushPeriod = 10 * time.Second

// deviceBook is the devices' information, in memory and in bucketDevices,
// where flush writes what changed. mu is never held across I/O.
type deviceBook struct {
	db    *bolt.DB
	mu    sync.Mutex
	m     map[identity.DeviceID]deviceInfo
	dirty map[identity.DeviceID]bool
}

// loadDevices reads bucketDevices (creating it). A record that cannot be
// read is skipped: it is only shown.
func loadDevices(db *bolt.DB) (*deviceBook, error) {
	b := &deviceBook{db: db, m: map[identity.DeviceID]deviceInfo{}, dirty: map[identity.DeviceID]bool{}}
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
// (name and version empty: kept), at time now; flush writes it.
func (b *deviceBook) seen(d identity.DeviceID, name, version, addr string, now time.Time) {
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
	b.dirty[d] = true
	b.mu.Unlock()
}

// flush writes the devices changed since the last flush, in one
// transaction. What fails to be written is tried again next time.
func (b *deviceBook) flush() error {
	b.mu.Lock()
	recs := make(map[identity.DeviceID][]byte, len(b.dirty))
	for d := range b.dirty {
		v, err := json.Marshal(b.m[d])
		if err != nil {
			b.mu.Unlock()
			return err
		}
		recs[d] = v
	}
	clear(b.dirty)
	b.mu.Unlock()
	if len(recs) == 0 {
		return nil
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketDevices)
		for d, v := range recs {
			if err := bk.Put(d[:], v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.mu.Lock()
		for d := range recs {
			b.dirty[d] = true
		}
		b.mu.Unlock()
		return fmt.Errorf("tracker: record devices: %w", err)
	}
	return nil
}

// flushLoop writes the device book every devicesFlushPeriod until ctx
// ends (Run writes it a last time after every session ended).
func (b *deviceBook) flushLoop(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(devicesFlushPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := b.flush(); err != nil {
				log.Warn("record devices", "err", err)
			}
		}
	}
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
