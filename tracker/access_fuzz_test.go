package tracker

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// FuzzAccessRecords: the decoders of the stored access and token records
// never panic, and a record they accept names valid folders.
func FuzzAccessRecords(f *testing.F) {
	for _, m := range []proto.Message{
		&trackerpb.MemberRecord{AllFolders: true, JoinedNs: 1, LastSeenNs: 2, Name: "laptop"},
		&trackerpb.MemberRecord{Folders: []string{"", "photos"}},
		&trackerpb.TokenRecord{Folders: []string{"photos"}, ExpiresNs: 1 << 62, CreatedNs: 1},
		&trackerpb.TokenRecord{},
	} {
		b, _ := proto.Marshal(m)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := decodeMemberRecord(b); err == nil && !r.AllFolders && len(r.Folders) > 0 {
			if _, err := FolderGrant(r.Folders...); err != nil {
				t.Fatalf("accepted member record with %q: %v", r.Folders, err)
			}
		}
		if r, err := decodeTokenRecord(b); err == nil {
			if _, err := FolderGrant(r.Folders...); err != nil {
				t.Fatalf("accepted token record with %q: %v", r.Folders, err)
			}
		}
	})
}
