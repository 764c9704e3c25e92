package admin

import (
	"testing"
)

// FuzzDecodeRequests: the request decoders never panic, and what they accept
// satisfies their checks.
func FuzzDecodeRequests(f *testing.F) {
	for _, s := range []string{
		`{"folders":["photos"],"expires_in":"24h"}`,
		`{"folders":["photos",""]}`,
		`{"all_folders":true}`,
		`{"folders":["a"],"all_folders":false}`,
		`{"folders":[]}`,
		`null`,
		`{"folders":["a\u0000"]}`,
		`{"expires_in":"-1h","folders":["x"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if folders, ttl, err := DecodeTokenRequest(b); err == nil {
			if len(folders) == 0 || ttl < 0 || ttl > maxExpiresIn || checkFolders(folders) != nil {
				t.Fatalf("accepted token request %q: %q %v", b, folders, ttl)
			}
		}
		if all, folders, err := DecodeFoldersRequest(b); err == nil {
			if all == (len(folders) > 0) || checkFolders(folders) != nil {
				t.Fatalf("accepted folders request %q: %v %q", b, all, folders)
			}
		}
		_ = CheckDevice(string(b))
	})
}
