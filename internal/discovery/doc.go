// Package discovery lets a peer find its tracker on the local network, so
// that a device needs only a join token on a LAN (no --tracker), and a
// tracker whose address changes (DHCP, a move to another machine or port)
// is found again.
//
// Terms:
//
//   - Discovery port: UDP DefaultPort (21010) on every node. Trackers and
//     peers bind 0.0.0.0:21010 with SO_REUSEADDR, so several DartSync
//     processes on one host all receive what is broadcast to it.
//   - Announcement: a tracker's signed statement "device D is reachable at
//     ADDR:PORT", with its Ed25519 public key (D is the key's hash, as
//     everywhere: internal/identity), the time it was made on the tracker's
//     clock, one address and the tracker's port (QUIC and TCP listen on the
//     same port number). It is signed with the tracker's identity key, so
//     nobody else can announce D, nor change where an announcement of D
//     points. Format: EncodeAnnouncement, docs/PROTOCOL.md "LAN discovery".
//   - Query: a peer's unsigned request "who is device D?" (D zero: anyone).
//     A tracker that hears a query naming it (or anyone) announces itself at
//     once, at most once per AnswerGap; otherwise it announces every
//     DefaultInterval.
//   - Per interface: nothing is sent to 255.255.255.255, which fails on a
//     host with only connected routes and no default route. A node sends on
//     each interface that is up and can broadcast, to that interface's own
//     subnet broadcast address (10.1.2.255 for 10.1.2.7/24), and an
//     announcement sent there names the tracker's address on that interface.
//     IPv4 only.
//   - Sighting: an announcement a peer received and verified, with when and
//     from where it arrived. A Finder keeps a bounded number of them
//     (MaxDevices devices, MaxAddrsPerDevice addresses each). A peer's
//     Finder wants one device (FinderConfig.Want, its tracker): it verifies
//     only announcements whose key hashes to it (AnnouncedDevice, a
//     SHA-256) and merely notes the others' device IDs, so a flood under
//     many keys costs a hash per packet, not a verification (about 40 µs).
//
// Trust. An announcement only tells a peer where to dial; it never changes
// whom the peer trusts. The peer dials the tracker with the device ID of its
// join token (or of its membership) pinned, so the TLS handshake fails
// against any other device, before the peer sends anything. Announcements
// of other devices are ignored, and one that claims the pinned ID without
// its key's signature is dropped by DecodeAnnouncement. What an attacker on
// the LAN can still do is what it can do without discovery: deny service
// (replay an old announcement of the tracker while answering at its old
// address, which the pin then refuses), never make a peer join it. See
// docs/ACCESS.md, "LAN discovery".
//
// Ownership. Announcer.Run owns its socket and the goroutine reading
// queries; Finder.Run owns its socket and reads on its own goroutine
// (Find only writes queries). Both return when their context ends, with
// the socket closed and nothing left running.
//
// Sentinel errors: ErrMalformed (a packet that is not a well-formed
// announcement or query: wrong magic, kind, length or field), ErrBadSignature
// (a well-formed announcement whose signature does not verify) and
// ErrUnavailable (the discovery socket could not be opened: Find cannot
// find anything).
package discovery
