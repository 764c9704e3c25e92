package tracker

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/manifest/manifestpb"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// seedMessages are valid messages of every type, the fuzzers' starting points.
func seedPeerMsgs() []*trackerpb.PeerMsg {
	f := testFile("dir/a.txt", "fuzz seed content", t0, manifest.ID{})
	del := manifest.NewTombstone("gone", manifest.KindFile, f.ID, t0)
	return []*trackerpb.PeerMsg{
		{Msg: &trackerpb.PeerMsg_Register{Register: &trackerpb.Register{Protocol: 1, ListenPort: 7001, Folder: "photos", LastSeq: 42, JoinSecret: make([]byte, SecretSize)}}},
		{Msg: &trackerpb.PeerMsg_KeepAlive{KeepAlive: &trackerpb.KeepAlive{}}},
		{Msg: &trackerpb.PeerMsg_FileUpdate{FileUpdate: &trackerpb.FileUpdate{RequestId: 7, Changes: []*manifestpb.Manifest{manifest.ToProto(&f), manifest.ToProto(&del)}}}},
		{Msg: &trackerpb.PeerMsg_FileUpdate{FileUpdate: &trackerpb.FileUpdate{RequestId: 8, Changes: []*manifestpb.Manifest{manifest.ToProto(&f), manifest.ToProto(&del)},
			OwnershipOnly: []bool{true, false}}}},
		{Msg: &trackerpb.PeerMsg_Register{Register: &trackerpb.Register{Protocol: 1, ListenPort: 7001, LastSeq: 42, Epoch: make([]byte, EpochSize)}}},
		{Msg: &trackerpb.PeerMsg_FileUpdate{FileUpdate: &trackerpb.FileUpdate{RequestId: 9, Changes: []*manifestpb.Manifest{manifest.ToProto(&f), manifest.ToProto(&del)},
			Reannounce: true, Ancestors: []*trackerpb.Ancestors{{FileIds: [][]byte{f.ID[:], del.ID[:]}}, {}}}}},
		{Msg: &trackerpb.PeerMsg_ReannounceDone{ReannounceDone: &trackerpb.ReannounceDone{}}},
		{Msg: &trackerpb.PeerMsg_KeepAlive{KeepAlive: &trackerpb.KeepAlive{Padding: make([]byte, probePadding)}}},
	}
}

func seedTrackerMsgs() []*trackerpb.TrackerMsg {
	f := testFile("dir/a.txt", "fuzz seed content", t0, manifest.ID{})
	dev := make([]byte, 32)
	peer := &trackerpb.Peer{DeviceId: dev, Addr: "192.0.2.1:7001"}
	return []*trackerpb.TrackerMsg{
		{Msg: &trackerpb.TrackerMsg_Registered{Registered: &trackerpb.Registered{IntervalMs: 30000, PieceSize: 1 << 20, Peers: []*trackerpb.Peer{peer}, Seq: 9}}},
		{Msg: &trackerpb.TrackerMsg_Updates{Updates: &trackerpb.Updates{Entries: []*trackerpb.Entry{{Manifest: manifest.ToProto(&f), Owners: [][]byte{dev}, Seq: 3}}}}},
		{Msg: &trackerpb.TrackerMsg_Peers{Peers: &trackerpb.Peers{Peers: []*trackerpb.Peer{peer}}}},
		{Msg: &trackerpb.TrackerMsg_Results{Results: &trackerpb.Results{RequestId: 7, Results: []*trackerpb.Result{{Outcome: trackerpb.Outcome_OUTCOME_CONFLICT, Seq: 4, Path: "a", CurrentId: f.ID[:]}}}}},
		{Msg: &trackerpb.TrackerMsg_Error{Error: &trackerpb.Error{Code: trackerpb.ErrorCode_ERROR_WRONG_TOKEN, Message: "wrong join token"}}},
		{Msg: &trackerpb.TrackerMsg_Registered{Registered: &trackerpb.Registered{IntervalMs: 30000, PieceSize: 1 << 20, Seq: 9, Epoch: make([]byte, EpochSize), Reannounce: true}}},
		{Msg: &trackerpb.TrackerMsg_Results{Results: &trackerpb.Results{RequestId: 9, Results: []*trackerpb.Result{{Outcome: trackerpb.Outcome_OUTCOME_OUTDATED, Path: "a", CurrentId: f.ID[:]}}}}},
	}
}

// FuzzDecodePeerMsg: the tracker's decoder of everything a peer sends,
// including the manifests of a FILE UPDATE as the session converts them.
func FuzzDecodePeerMsg(f *testing.F) {
	for _, m := range seedPeerMsgs() {
		b, _ := proto.Marshal(m)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodePeerMsg(b)
		if err != nil {
			return
		}
		if u := m.GetFileUpdate(); u != nil {
			if len(u.Changes) > MaxBatch {
				t.Fatalf("accepted %d changes", len(u.Changes))
			}
			if f := len(u.OwnershipOnly); f != 0 && f != len(u.Changes) {
				t.Fatalf("accepted %d ownership flags for %d changes", f, len(u.Changes))
			}
			if a := len(u.Ancestors); a != 0 && (!u.Reannounce || a != len(u.Changes) || len(u.OwnershipOnly) != 0) {
				t.Fatalf("accepted %d ancestor lists for %d changes (re-announce %v)", a, len(u.Changes), u.Reannounce)
			}
			for _, a := range u.Ancestors {
				if len(a.GetFileIds()) > MaxAncestors {
					t.Fatalf("accepted %d ancestors", len(a.GetFileIds()))
				}
				for _, id := range a.GetFileIds() {
					if _, err := manifest.IDFromBytes(id); err != nil {
						t.Fatalf("accepted ancestor %x: %v", id, err)
					}
				}
			}
			for _, p := range u.Changes {
				if mf, err := manifest.FromProto(p); err == nil {
					if err := manifest.ValidatePath(mf.Path); err != nil {
						t.Fatalf("accepted bad path: %v", err)
					}
				}
			}
		}
		if r := m.GetRegister(); r != nil && (r.Protocol != ProtocolVersion || len(r.Folder) > MaxFolderLen || len(r.Epoch) != 0 && len(r.Epoch) != EpochSize) {
			t.Fatalf("accepted register %v", r)
		}
	})
}

// FuzzDecodeTrackerMsg: the client's decoder of everything the tracker
// sends, with the conversions the client applies.
func FuzzDecodeTrackerMsg(f *testing.F) {
	for _, m := range seedTrackerMsgs() {
		b, _ := proto.Marshal(m)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeTrackerMsg(b)
		if err != nil {
			return
		}
		switch x := m.Msg.(type) {
		case *trackerpb.TrackerMsg_Updates:
			for _, e := range x.Updates.Entries {
				if en, err := entryFromPB(e); err == nil {
					if err := en.Manifest.Validate(); err != nil {
						t.Fatalf("entry accepted with invalid manifest: %v", err)
					}
				}
			}
		case *trackerpb.TrackerMsg_Peers:
			_, _ = peersFromPB(x.Peers.Peers)
		case *trackerpb.TrackerMsg_Registered:
			_, _ = peersFromPB(x.Registered.Peers)
		}
	})
}

// FuzzParseToken: what a user pastes.
func FuzzParseToken(f *testing.F) {
	f.Add("AAAQEAY-EAUDAO5-CAJBIFQ-YDIOB4X-IBCEQTC-QKRMFYM-YDENBWH-A5DYPQS:AAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("garbage")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseToken(s)
		if err != nil {
			return
		}
		again, err := ParseToken(tok.String())
		if err != nil || again != tok {
			t.Fatalf("round trip of %q: %v %v", s, again, err)
		}
	})
}

// TestWriteFuzzSeeds regenerates testdata/fuzz/*/seed-* when
// DARTSYNC_WRITE_SEEDS=1; otherwise it checks the stored seeds still decode.
func TestWriteFuzzSeeds(t *testing.T) {
	write := os.Getenv("DARTSYNC_WRITE_SEEDS") == "1"
	var peer, trk [][]byte
	for _, m := range seedPeerMsgs() {
		b, _ := proto.Marshal(m)
		peer = append(peer, b)
	}
	for _, m := range seedTrackerMsgs() {
		b, _ := proto.Marshal(m)
		trk = append(trk, b)
	}
	for name, seeds := range map[string][][]byte{"FuzzDecodePeerMsg": peer, "FuzzDecodeTrackerMsg": trk} {
		dir := filepath.Join("testdata", "fuzz", name)
		for i, b := range seeds {
			path := filepath.Join(dir, fmt.Sprintf("seed-%d", i))
			if write {
				os.MkdirAll(dir, 0o755)
				if err := os.WriteFile(path, fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("missing seed %s (run with DARTSYNC_WRITE_SEEDS=1): %v", path, err)
			}
		}
	}
	for _, b := range peer {
		if _, err := decodePeerMsg(b); err != nil {
			t.Errorf("seed does not decode: %v", err)
		}
	}
	for _, b := range trk {
		if _, err := decodeTrackerMsg(b); err != nil {
			t.Errorf("seed does not decode: %v", err)
		}
	}
}
