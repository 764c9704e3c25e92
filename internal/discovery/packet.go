package discovery

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
)

// Sentinel errors; see the package documentation.
var (
	ErrMalformed    = errors.New("discovery: malformed packet")
	ErrBadSignature = errors.New("discovery: announcement signature does not verify")
	ErrUnavailable  = errors.New("discovery: LAN discovery unavailable")
)

// DefaultPort is the UDP port every node sends and listens on.
const DefaultPort = 21010

// Packet layout (big-endian; docs/PROTOCOL.md "LAN discovery"):
//
//	magic    4  "DSD1" (the 1 is the format's version)
//	kind     1  KindAnnouncement or KindQuery
//
// announcement:
//
//	key     32  the tracker's Ed25519 public key
//	time     8  unix milliseconds on the tracker's clock when it was made
//	port     2  the tracker's port, not 0
//	alen     1  4 (IPv4) or 16 (IPv6)
//	addr  alen  the tracker's address
//	sig     64  Ed25519 over signContext followed by every byte before sig
//
// query:
//
//	device  32  the device ID looked for; all zero: any tracker
const (
	KindAnnouncement byte = 1
	KindQuery        byte = 2

	// MaxPacket bounds every packet: the longest announcement is 4+1+32+
	// 8+2+1+16+64 = 128 bytes. A reader reads at most MaxPacket+1 bytes and
	// drops anything longer unread.
	MaxPacket = 128

	headerLen   = 5
	queryLen    = headerLen + 32
	annFixedLen = headerLen + 32 + 8 + 2 + 1 + ed25519.SignatureSize // without addr
)

var magic = [4]byte{'D', 'S', 'D', '1'}

// signContext is prefixed to the signed bytes, so that a signature made
// for discovery can never be taken for one of anything else the key signs.
const signContext = "dartsync LAN discovery announcement v1\x00"

// Announcement is a tracker's signed "device Device is at Addr".
type Announcement struct {
	Key    ed25519.PublicKey // the tracker's public key
	Device identity.DeviceID // NewDeviceID(Key): set by Decode and Encode
	Time   time.Time         // when it was made (the tracker's clock), millisecond precision
	Addr   netip.AddrPort    // where the tracker listens (QUIC and TCP)
}

// EncodeAnnouncement returns the signed announcement that priv's device is
// at addr, made at t.
func EncodeAnnouncement(priv ed25519.PrivateKey, addr netip.AddrPort, t time.Time) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("discovery: private key of %d bytes", len(priv))
	}
	ip := addr.Addr().Unmap()
	if !ip.IsValid() || addr.Port() == 0 {
		return nil, fmt.Errorf("discovery: cannot announce address %v", addr)
	}
	ms := t.UnixMilli()
	if ms < 0 {
		return nil, fmt.Errorf("discovery: time %v before 1970", t)
	}
	raw := ip.AsSlice()
	b := make([]byte, 0, annFixedLen+len(raw))
	b = append(b, magic[:]...)
	b = append(b, KindAnnouncement)
	b = append(b, priv.Public().(ed25519.PublicKey)...)
	b = binary.BigEndian.AppendUint64(b, uint64(ms))
	b = binary.BigEndian.AppendUint16(b, addr.Port())
	b = append(b, byte(len(raw)))
	b = append(b, raw...)
	return append(b, ed25519.Sign(priv, signed(b))...), nil
}

func signed(body []byte) []byte {
	return append([]byte(signContext), body...)
}

// EncodeQuery returns a query for device id (zero: any tracker).
func EncodeQuery(id identity.DeviceID) []byte {
	b := make([]byte, 0, queryLen)
	b = append(b, magic[:]...)
	b = append(b, KindQuery)
	return append(b, id[:]...)
}

// Kind returns the kind of a packet whose header is well formed, else an
// error wrapping ErrMalformed.
func Kind(b []byte) (byte, error) {
	if len(b) > MaxPacket {
		return 0, fmt.Errorf("%w: %d bytes, at most %d", ErrMalformed, len(b), MaxPacket)
	}
	if len(b) < headerLen || !bytes.Equal(b[:4], magic[:]) {
		return 0, fmt.Errorf("%w: not a DartSync discovery packet", ErrMalformed)
	}
	switch b[4] {
	case KindAnnouncement, KindQuery:
		return b[4], nil
	}
	return 0, fmt.Errorf("%w: unknown kind %d", ErrMalformed, b[4])
}

// DecodeQuery returns the device ID a query asks for (zero: any).
func DecodeQuery(b []byte) (identity.DeviceID, error) {
	k, err := Kind(b)
	if err != nil {
		return identity.DeviceID{}, err
	}
	if k != KindQuery || len(b) != queryLen {
		return identity.DeviceID{}, fmt.Errorf("%w: not a query of %d bytes", ErrMalformed, queryLen)
	}
	return identity.DeviceID(b[headerLen:]), nil
}

// AnnouncedDevice returns the device a well-formed announcement claims to
// be (the hash of its key) without verifying its signature: a cheap filter
// (a SHA-256, against an Ed25519 verification) before DecodeAnnouncement.
func AnnouncedDevice(b []byte) (identity.DeviceID, error) {
	if err := checkAnnouncement(b); err != nil {
		return identity.DeviceID{}, err
	}
	return identity.NewDeviceID(ed25519.PublicKey(b[headerLen : headerLen+32])), nil
}

// checkAnnouncement checks b's structure: kind, lengths and fields.
func checkAnnouncement(b []byte) error {
	k, err := Kind(b)
	if err != nil {
		return err
	}
	if k != KindAnnouncement || len(b) < annFixedLen {
		return fmt.Errorf("%w: not an announcement (%d bytes)", ErrMalformed, len(b))
	}
	p := b[headerLen:]
	ms := binary.BigEndian.Uint64(p[32:40])
	port := binary.BigEndian.Uint16(p[40:42])
	alen := int(p[42])
	if alen != 4 && alen != 16 {
		return fmt.Errorf("%w: address of %d bytes", ErrMalformed, alen)
	}
	if len(b) != annFixedLen+alen {
		return fmt.Errorf("%w: announcement of %d bytes, want %d", ErrMalformed, len(b), annFixedLen+alen)
	}
	ip, _ := netip.AddrFromSlice(p[43 : 43+alen])
	ip = ip.Unmap()
	if port == 0 || ms > uint64(1<<62) || ip.IsUnspecified() || ip.IsMulticast() {
		return fmt.Errorf("%w: address %v port %d time %d", ErrMalformed, ip, port, ms)
	}
	return nil
}

// DecodeAnnouncement parses and verifies an announcement: a malformed one
// wraps ErrMalformed, one whose signature does not verify ErrBadSignature.
// It never reads past b and allocates only the returned key.
func DecodeAnnouncement(b []byte) (Announcement, error) {
	if err := checkAnnouncement(b); err != nil {
		return Announcement{}, err
	}
	p := b[headerLen:]
	key := p[:32]
	ms := binary.BigEndian.Uint64(p[32:40])
	port := binary.BigEndian.Uint16(p[40:42])
	alen := int(p[42])
	ip, _ := netip.AddrFromSlice(p[43 : 43+alen])
	ip = ip.Unmap()
	body, sig := b[:len(b)-ed25519.SignatureSize], b[len(b)-ed25519.SignatureSize:]
	if !ed25519.Verify(ed25519.PublicKey(key), signed(body), sig) {
		return Announcement{}, ErrBadSignature
	}
	a := Announcement{
		Key:  append(ed25519.PublicKey(nil), key...),
		Time: time.UnixMilli(int64(ms)),
		Addr: netip.AddrPortFrom(ip, port),
	}
	a.Device = identity.NewDeviceID(a.Key)
	return a, nil
}
