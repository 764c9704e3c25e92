package tracker

import (
	"fmt"
	"net"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// Protocol limits.
const (
	// ProtocolVersion is the Register.protocol value this package speaks.
	ProtocolVersion = 1
	// MaxMessageSize is the largest frame either side accepts after
	// registration: one manifest of the largest size plus room for owners.
	MaxMessageSize = manifest.MaxEncodedSize + 1<<20
	// MaxRegisterSize is the largest first frame (REGISTER) the tracker
	// reads from a device it has not yet admitted.
	MaxRegisterSize = 4096
	// MaxBatch is the largest number of changes in one FILE UPDATE.
	MaxBatch = 1000
	// MaxFolderLen is the longest folder name in bytes.
	MaxFolderLen = 255
	// MaxAncestors bounds the ancestors of one re-announced change.
	MaxAncestors = 64
	// maxPushBytes bounds the encoded size of one UPDATES message the
	// tracker builds (a single larger entry is still sent alone).
	maxPushBytes = 256 << 10
	// maxPushEntries bounds the entries of one UPDATES message.
	maxPushEntries = 1000
	// maxOwners bounds the owners of one entry on the wire.
	maxOwners = 1 << 16
	// maxPeers bounds a peer list on the wire.
	maxPeers = 1 << 16
)

// decodePeerMsg decodes and checks one frame body sent by a peer. It is the
// tracker's only decoder of untrusted input (fuzzed by FuzzDecodePeerMsg).
func decodePeerMsg(body []byte) (*trackerpb.PeerMsg, error) {
	var m trackerpb.PeerMsg
	if err := proto.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: decode peer message: %v", ErrProtocol, err)
	}
	switch x := m.Msg.(type) {
	case *trackerpb.PeerMsg_Register:
		r := x.Register
		if r == nil {
			return nil, fmt.Errorf("%w: empty REGISTER", ErrProtocol)
		}
		if r.Protocol != ProtocolVersion {
			return nil, fmt.Errorf("%w: protocol version %d, this tracker speaks %d", ErrProtocol, r.Protocol, ProtocolVersion)
		}
		if r.ListenPort > 65535 {
			return nil, fmt.Errorf("%w: listen port %d out of range", ErrProtocol, r.ListenPort)
		}
		if err := validateFolder(r.Folder); err != nil {
			return nil, err
		}
		if len(r.JoinSecret) != 0 && len(r.JoinSecret) != SecretSize {
			return nil, fmt.Errorf("%w: join secret is %d bytes, want %d", ErrWrongToken, len(r.JoinSecret), SecretSize)
		}
		if _, err := epochFromBytes(r.Epoch); err != nil {
			return nil, err
		}
	case *trackerpb.PeerMsg_KeepAlive:
	case *trackerpb.PeerMsg_FileUpdate:
		if x.FileUpdate == nil {
			return nil, fmt.Errorf("%w: empty FILE UPDATE", ErrProtocol)
		}
		if n := len(x.FileUpdate.Changes); n > MaxBatch {
			return nil, fmt.Errorf("%w: FILE UPDATE with %d changes, limit %d", ErrTooLarge, n, MaxBatch)
		}
		if f, n := len(x.FileUpdate.OwnershipOnly), len(x.FileUpdate.Changes); f != 0 && f != n {
			return nil, fmt.Errorf("%w: FILE UPDATE with %d ownership flags for %d changes", ErrProtocol, f, n)
		}
		if err := checkReannounce(x.FileUpdate); err != nil {
			return nil, err
		}
	case *trackerpb.PeerMsg_ReannounceDone:
	default:
		return nil, fmt.Errorf("%w: peer message of unknown type", ErrProtocol)
	}
	return &m, nil
}

// decodeTrackerMsg decodes and checks one frame body sent by the tracker
// (fuzzed by FuzzDecodeTrackerMsg). Entries and peers are converted later by
// entryFromPB / peerFromPB, which validate them.
func decodeTrackerMsg(body []byte) (*trackerpb.TrackerMsg, error) {
	var m trackerpb.TrackerMsg
	if err := proto.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: decode tracker message: %v", ErrProtocol, err)
	}
	switch x := m.Msg.(type) {
	case *trackerpb.TrackerMsg_Registered:
		if x.Registered == nil || x.Registered.IntervalMs == 0 {
			return nil, fmt.Errorf("%w: REGISTERED without interval", ErrProtocol)
		}
		if len(x.Registered.Peers) > maxPeers {
			return nil, fmt.Errorf("%w: %d peers", ErrTooLarge, len(x.Registered.Peers))
		}
		if _, err := epochFromBytes(x.Registered.Epoch); err != nil {
			return nil, err
		}
	case *trackerpb.TrackerMsg_Updates:
		if x.Updates == nil {
			return nil, fmt.Errorf("%w: empty UPDATES", ErrProtocol)
		}
	case *trackerpb.TrackerMsg_Peers:
		if x.Peers == nil {
			return nil, fmt.Errorf("%w: empty PEERS", ErrProtocol)
		}
		if len(x.Peers.Peers) > maxPeers {
			return nil, fmt.Errorf("%w: %d peers", ErrTooLarge, len(x.Peers.Peers))
		}
	case *trackerpb.TrackerMsg_Results:
		if x.Results == nil {
			return nil, fmt.Errorf("%w: empty RESULTS", ErrProtocol)
		}
	case *trackerpb.TrackerMsg_Error:
		if x.Error == nil {
			return nil, fmt.Errorf("%w: empty ERROR", ErrProtocol)
		}
	default:
		return nil, fmt.Errorf("%w: tracker message of unknown type", ErrProtocol)
	}
	return &m, nil
}

// checkReannounce checks the ancestor fields of a FILE UPDATE: ancestors
// only in a re-announce, unacked reports only outside one; one list per
// change, each bounded and of 32-byte IDs; no ownership flags in a
// re-announce.
func checkReannounce(u *trackerpb.FileUpdate) error {
	if u.Reannounce && len(u.OwnershipOnly) != 0 {
		return fmt.Errorf("%w: ownership flags in a re-announce", ErrProtocol)
	}
	if len(u.Ancestors) != 0 && !u.Reannounce {
		return fmt.Errorf("%w: ancestors outside a re-announce", ErrProtocol)
	}
	if len(u.Unacked) != 0 && u.Reannounce {
		return fmt.Errorf("%w: unacked reports in a re-announce", ErrProtocol)
	}
	if err := checkIDLists("ancestor", u.Ancestors, len(u.Changes)); err != nil {
		return err
	}
	return checkIDLists("unacked report", u.Unacked, len(u.Changes))
}

// checkIDLists checks lists of file IDs sent with n changes: none, or one
// per change, each at most MaxAncestors IDs of 32 bytes.
func checkIDLists(what string, lists []*trackerpb.Ancestors, n int) error {
	if len(lists) == 0 {
		return nil
	}
	if len(lists) != n {
		return fmt.Errorf("%w: %d %s lists for %d changes", ErrProtocol, len(lists), what, n)
	}
	for i, a := range lists {
		if a == nil {
			continue
		}
		if len(a.FileIds) > MaxAncestors {
			return fmt.Errorf("%w: change %d has %d %ss, limit %d", ErrTooLarge, i, len(a.FileIds), what, MaxAncestors)
		}
		for _, id := range a.FileIds {
			if len(id) != manifest.IDSize {
				return fmt.Errorf("%w: %s of change %d is %d bytes", ErrProtocol, what, i, len(id))
			}
		}
	}
	return nil
}

// validateFolder checks a folder name: at most MaxFolderLen bytes of UTF-8
// without NUL ("" is the default folder).
func validateFolder(f string) error {
	if len(f) > MaxFolderLen || !utf8.ValidString(f) {
		return fmt.Errorf("%w: folder name must be at most %d bytes of UTF-8", ErrProtocol, MaxFolderLen)
	}
	for i := 0; i < len(f); i++ {
		if f[i] == 0 {
			return fmt.Errorf("%w: folder name contains NUL", ErrProtocol)
		}
	}
	return nil
}

// deviceFromBytes converts a 32-byte device ID from the wire.
func deviceFromBytes(b []byte) (identity.DeviceID, error) {
	var d identity.DeviceID
	if len(b) != len(d) {
		return d, fmt.Errorf("%w: device ID is %d bytes, want %d", ErrProtocol, len(b), len(d))
	}
	copy(d[:], b)
	return d, nil
}

// peerToPB / peerFromPB convert a live peer.
func peerToPB(p PeerInfo) *trackerpb.Peer {
	return &trackerpb.Peer{DeviceId: p.ID[:], Addr: p.Addr}
}

func peerFromPB(p *trackerpb.Peer) (PeerInfo, error) {
	id, err := deviceFromBytes(p.GetDeviceId())
	if err != nil {
		return PeerInfo{}, err
	}
	if _, _, err := net.SplitHostPort(p.GetAddr()); err != nil && p.GetAddr() != "" {
		return PeerInfo{}, fmt.Errorf("%w: peer address %q: %v", ErrProtocol, p.GetAddr(), err)
	}
	return PeerInfo{ID: id, Addr: p.GetAddr()}, nil
}

func peersFromPB(ps []*trackerpb.Peer) ([]PeerInfo, error) {
	out := make([]PeerInfo, 0, len(ps))
	for _, p := range ps {
		pi, err := peerFromPB(p)
		if err != nil {
			return nil, err
		}
		out = append(out, pi)
	}
	return out, nil
}

// entryFromPB converts a pushed entry, validating its manifest.
func entryFromPB(e *trackerpb.Entry) (Entry, error) {
	m, err := manifest.FromProto(e.GetManifest())
	if err != nil {
		return Entry{}, fmt.Errorf("%w: entry: %w", ErrProtocol, err)
	}
	if len(e.Owners) > maxOwners {
		return Entry{}, fmt.Errorf("%w: entry %q has %d owners", ErrTooLarge, m.Path, len(e.Owners))
	}
	out := Entry{Manifest: m, Seq: e.Seq, Owners: make([]identity.DeviceID, 0, len(e.Owners))}
	for _, o := range e.Owners {
		d, err := deviceFromBytes(o)
		if err != nil {
			return Entry{}, fmt.Errorf("entry %q owner: %w", m.Path, err)
		}
		out.Owners = append(out.Owners, d)
	}
	return out, nil
}

// hostPort joins the observed IP of addr with an advertised port.
func hostPort(addr net.Addr, port uint32) string {
	if port == 0 {
		return ""
	}
	host := addr.String()
	if ua, ok := addr.(*net.UDPAddr); ok {
		host = ua.IP.String()
	} else if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// Field numbers of TrackerMsg.updates and Updates.entries.
const (
	trackerMsgFieldUpdates protowire.Number = 2
	updatesFieldEntries    protowire.Number = 1
)

// encodeUpdates returns the encoding of a TrackerMsg carrying an Updates
// message with the given encoded entries (see store.since).
func encodeUpdates(entries [][]byte) []byte {
	n := 0
	for _, e := range entries {
		n += protowire.SizeTag(updatesFieldEntries) + protowire.SizeBytes(len(e))
	}
	b := make([]byte, 0, n+protowire.SizeTag(trackerMsgFieldUpdates)+protowire.SizeVarint(uint64(n)))
	b = protowire.AppendTag(b, trackerMsgFieldUpdates, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	for _, e := range entries {
		b = protowire.AppendTag(b, updatesFieldEntries, protowire.BytesType)
		b = protowire.AppendBytes(b, e)
	}
	return b
}
