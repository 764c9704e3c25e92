package tracker

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// EpochSize is the length of an epoch ID in bytes.
const EpochSize = 16

// Epoch identifies one run of a tracker on its state: every start is a new
// epoch (see tracker.proto, "Epochs"). A peer remembers the epoch its last
// sequence number counts in. The zero Epoch is "none".
//
// The rules, in one place:
//   - A clean shutdown records that its epoch ended and at which sequence
//     number; the state, and any copy of it, then holds everything the epoch
//     committed. An epoch that did not end cleanly (a crash; a copy of the
//     state taken while it ran) is closed by the next start at the state's
//     own sequence number, marked recovered: the state holds the epoch up to
//     there (commits are durable before anyone hears of them), a copy
//     perhaps not all of it.
//   - A peer's "heard" is the highest sequence number of its epoch it heard
//     of: its last sequence number, or an accepted report's, whichever is
//     higher (Register.heard_seq). A peer resumes (is sent what changed since
//     its last sequence number) only if its epoch is the current one and its
//     heard is not ahead, or its epoch is one the state holds closed and its
//     heard is within it (a recovered epoch: only a peer that sent heard).
//     Any other peer re-announces its state first.
//   - A peer of the current epoch that is ahead of the tracker's sequence
//     number proves the state went back while the tracker ran: the tracker
//     starts a new epoch and every session of the old one re-registers.
type Epoch [EpochSize]byte

// IsZero reports whether e is "no epoch".
func (e Epoch) IsZero() bool { return e == Epoch{} }

// String returns e in hex ("none" for the zero epoch).
func (e Epoch) String() string {
	if e.IsZero() {
		return "none"
	}
	return hex.EncodeToString(e[:])
}

// epochFromBytes converts an epoch from the wire: empty is the zero epoch.
func epochFromBytes(b []byte) (Epoch, error) {
	var e Epoch
	if len(b) != 0 && len(b) != EpochSize {
		return e, fmt.Errorf("%w: epoch is %d bytes, want %d", ErrProtocol, len(b), EpochSize)
	}
	copy(e[:], b)
	return e, nil
}

func (e Epoch) bytes() []byte {
	if e.IsZero() {
		return nil
	}
	return e[:]
}

var (
	bucketEpochs = []byte("epochs") // epoch ID -> trackerpb.EpochRecord
	metaEpoch    = []byte("epoch")  // the current epoch ID
)

// epochStart says what the state held when this run's epoch began (for the
// "new epoch" log line).
type epochStart struct {
	prev       Epoch // the previous run's epoch; zero if none
	prevClosed bool  // it shut down cleanly
	fresh      bool  // the state had no files, members or sequence numbers
}

// why explains the new epoch to a user.
func (st epochStart) why() string {
	switch {
	case st.fresh:
		return "new state: every peer re-announces its files"
	case st.prev.IsZero():
		return "state written by a tracker without epochs: every peer re-announces its files once"
	case st.prevClosed:
		return "the previous run shut down cleanly: its peers resume, peers of any other epoch (for example after restoring this state from a backup) re-announce their files"
	}
	return "the previous run did not shut down cleanly (a crash, or a state copied while the tracker ran): its peers resume if they heard of nothing beyond this state, the others re-announce their files"
}

// beginEpoch starts a new epoch inside the load transaction: a random ID,
// recorded with the current sequence number, becomes the current epoch.
func (s *store) beginEpoch(tx *bolt.Tx, rnd io.Reader) error {
	if rnd == nil {
		rnd = rand.Reader
	}
	meta, epochs := tx.Bucket(bucketMeta), tx.Bucket(bucketEpochs)
	if v := meta.Get(metaEpoch); len(v) == EpochSize {
		copy(s.started.prev[:], v)
		rec, err := epochRecord(epochs, s.started.prev)
		if err != nil {
			return err
		}
		s.started.prevClosed = rec != nil && rec.Closed
		if rec != nil && !rec.Closed {
			// Not ended cleanly: the state holds it up to its own
			// sequence number, which no later commit of that epoch can
			// follow now.
			rec.Closed, rec.Recovered, rec.EndSeq = true, true, s.seq.Load()
			if err := putEpoch(epochs, s.started.prev, rec); err != nil {
				return err
			}
		}
	}
	s.started.fresh = s.seq.Load() == 0 && tx.Bucket(bucketMembers).Stats().KeyN == 0
	var e Epoch
	if _, err := io.ReadFull(rnd, e[:]); err != nil {
		return fmt.Errorf("generate epoch: %w", err)
	}
	if err := putEpoch(epochs, e, &trackerpb.EpochRecord{StartSeq: s.seq.Load(), StartedNs: time.Now().UnixNano()}); err != nil {
		return err
	}
	if err := meta.Put(metaEpoch, e[:]); err != nil {
		return err
	}
	s.epoch = e
	return nil
}

// currentEpoch returns the epoch of this run.
func (s *store) currentEpoch() Epoch {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.epoch
}

// rotateEpoch starts a new epoch while the tracker runs (the state was found
// to have gone back). The old epoch stays open: it is never resumed.
func (s *store) rotateEpoch() (Epoch, error) {
	var e Epoch
	if _, err := io.ReadFull(rand.Reader, e[:]); err != nil {
		return Epoch{}, fmt.Errorf("tracker: generate epoch: %w", err)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := putEpoch(tx.Bucket(bucketEpochs), e, &trackerpb.EpochRecord{StartSeq: s.current(), StartedNs: time.Now().UnixNano()}); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(metaEpoch, e[:])
	})
	if err != nil {
		return Epoch{}, fmt.Errorf("tracker: start epoch: %w", err)
	}
	s.mu.Lock()
	s.epoch = e
	s.mu.Unlock()
	return e, nil
}

// endEpoch records that the current epoch ended cleanly at the current
// sequence number. Call it only when nothing more can be committed.
func (s *store) endEpoch() error {
	e := s.currentEpoch()
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEpochs)
		rec, err := epochRecord(b, e)
		if err != nil {
			return err
		}
		if rec == nil {
			return fmt.Errorf("tracker: epoch %s has no record", e)
		}
		rec.Closed, rec.EndSeq = true, s.current()
		return putEpoch(b, e, rec)
	})
}

// resumeMode is how a registering peer continues.
type resumeMode uint8

const (
	modeResume     resumeMode = iota // send what changed since its last sequence number
	modeReannounce                   // the peer re-announces first
	modeRollback                     // the state went back while running: new epoch, everyone re-announces
)

// classify decides how a peer that last saw sequence number last of epoch e,
// and heard of sequence numbers up to heard in it (0: not told), continues
// (see Epoch), and says why for the log.
func (s *store) classify(e Epoch, last, heard uint64) (resumeMode, string, error) {
	cur := s.currentEpoch()
	hi := max(last, heard)
	switch {
	case e == cur && hi <= s.current():
		return modeResume, "", nil
	case e == cur:
		return modeRollback, "the peer saw sequence numbers this tracker has not assigned: its state went back while it ran", nil
	case e.IsZero():
		return modeReannounce, "the peer has no epoch (new, or its last re-announce did not finish)", nil
	}
	var rec *trackerpb.EpochRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		rec, err = epochRecord(tx.Bucket(bucketEpochs), e)
		return err
	})
	switch {
	case err != nil:
		return 0, "", fmt.Errorf("tracker: read epoch %s: %w", e, err)
	case rec == nil:
		return modeReannounce, "the peer's epoch is unknown to this state (restored from a backup, or new)", nil
	case !rec.Closed:
		return modeReannounce, "the peer's epoch did not end cleanly", nil
	case rec.Recovered && heard == 0:
		return modeReannounce, "the peer's epoch did not end cleanly and the peer did not say what it heard of", nil
	case hi > rec.EndSeq:
		return modeReannounce, "the peer heard of more of its epoch than this state holds", nil
	}
	return modeResume, "", nil
}

func epochRecord(b *bolt.Bucket, e Epoch) (*trackerpb.EpochRecord, error) {
	v := b.Get(e[:])
	if v == nil {
		return nil, nil
	}
	var rec trackerpb.EpochRecord
	if err := proto.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("corrupt epoch record %s: %w", e, err)
	}
	return &rec, nil
}

func putEpoch(b *bolt.Bucket, e Epoch, rec *trackerpb.EpochRecord) error {
	v, err := proto.Marshal(rec)
	if err != nil {
		return err
	}
	return b.Put(e[:], v)
}
