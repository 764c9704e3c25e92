package tracker

import (
	"fmt"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
)

// Entry is the current state of one path, as pushed by the tracker.
type Entry struct {
	Manifest manifest.Manifest   // current version (a tombstone if deleted)
	Owners   []identity.DeviceID // members that reported exactly Manifest.ID; filter by the live peer list
	Seq      uint64              // sequence number of the entry's last change
}

// PeerInfo is a live peer of the folder.
type PeerInfo struct {
	ID   identity.DeviceID
	Addr string // host:port it serves pieces on (observed IP + advertised port); "" if it does not serve
}

// RegisterInfo is the tracker's answer to a registration.
type RegisterInfo struct {
	Interval  time.Duration // keep-alive interval the client uses
	PieceSize int64         // piece size new manifests should use
	Peers     []PeerInfo    // live peers of the folder, this device excluded
	Seq       uint64        // highest sequence number assigned so far
	NewMember bool          // this connection made the device a member (it may forget the secret)
	Epoch     Epoch         // the tracker's current epoch
	// Reannounce: the tracker does not hold this device's state (a new
	// epoch it has not seen complete). Before it is sent any update, the
	// device must re-announce its index and local changes on this
	// registration (Client.Reannounce, Client.UpdateOn) and then call
	// Client.ReannounceDone. See Epoch.
	Reannounce bool
	// Conn numbers this registration (1, 2, ... per Client); the calls bound
	// to one registration take it.
	Conn uint64
}

// Change is one local change reported to the tracker: the new manifest with
// Base set to the file ID last synced for its path (zero for a new path).
type Change struct {
	New manifest.Manifest
	// OwnershipOnly makes the change an ownership announcement: this device
	// has exactly the version New (one it applied) and asks only to be listed
	// as its owner. It never creates, changes or resurrects a version: unless
	// New.ID is the path's current version it is Rejected. A peer sets it for
	// every version it announces after applying it, so that an announcement
	// that arrives after the version was deleted or replaced cannot bring it
	// back.
	OwnershipOnly bool
	// Ancestors are file IDs the path held on this device before New, newest
	// first (at most MaxAncestors). Only Client.Reannounce sends them: they
	// let the tracker tell an older version from a concurrent one.
	Ancestors []manifest.ID
	// Unacked are file IDs this device reported for the path before
	// without learning the outcome (it was stopped between the tracker's
	// commit and its own record), newest first (at most MaxAncestors). Only
	// ordinary updates carry them; the tracker applies the
	// unacknowledged-report rules of apply (unacked.go).
	Unacked []manifest.ID

	reannounce bool // the tracker applies the re-announce rules (reannounce.go)
}

// Outcome is what the tracker did with one Change.
type Outcome uint8

const (
	// Accepted: the change is the new current version of its path.
	Accepted Outcome = iota + 1
	// Owner: the reported version already was current; the device is now an owner.
	Owner
	// Conflict: a concurrent edit; both versions are kept. Result.Path says
	// where the reporter's version lives, Result.CurrentID what the reported
	// path now holds.
	Conflict
	// Rejected: not applied (a deletion of an outdated version, an ownership
	// announcement of a version that is no longer current, an invalid
	// manifest); Result.Err says why, Result.CurrentID is the current version.
	Rejected
	// Outdated: the tracker's current version is newer than the reported
	// one and stays; Result.CurrentID names it. A re-announced version that the
	// path's history shows replaced, or an unacknowledged report sent again
	// whose version was replaced since (apply's rule 5b). The device
	// receives the current version as an update.
	Outdated
)

func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case Owner:
		return "owner"
	case Conflict:
		return "conflict"
	case Rejected:
		return "rejected"
	case Outdated:
		return "outdated"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Result is the tracker's answer to one Change.
type Result struct {
	Outcome Outcome
	Seq     uint64 // sequence number of the entry holding the reporter's version; 0 if rejected
	Path    string // where the reporter's version now lives (its path, or the conflict copy's name)
	// CurrentID is the file ID of the current version at the reported path
	// afterwards (zero if none). Results carry the ID, never the manifest:
	// a reply echoing manifests could outgrow the frame its batch fitted in.
	CurrentID manifest.ID
	Err       error // why the change was rejected
}
