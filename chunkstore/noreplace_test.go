package chunkstore

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestRenameNewNeverReplaces: a commit to a New target puts the file in
// place only where nothing is; a file that appeared at the target (the
// user's, written after the caller's check) stays as it is, the source
// stays for a retry, and the error is ErrTargetExists. Replace replaces.
// Both ways of doing it: renameat2 (Linux) and the hard-link fallback.
func TestRenameNewNeverReplaces(t *testing.T) {
	ways := map[string]func(src, target string) error{
		"renameNoReplace": renameNoReplace,
		"linkNoReplace":   linkNoReplace,
	}
	for name, rename := range ways {
		for _, tc := range []struct {
			name     string
			existing string // at the target before; "" none
			wantErr  error
			wantData string // at the target after
		}{
			{name: "absent", wantData: "new version"},
			{name: "appeared", existing: "the user's file", wantErr: fs.ErrExist, wantData: "the user's file"},
		} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				dir := t.TempDir()
				src, target := filepath.Join(dir, "part"), filepath.Join(dir, "target")
				mustWrite(t, src, "new version")
				if tc.existing != "" {
					mustWrite(t, target, tc.existing)
				}
				err := rename(src, target)
				if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
					t.Fatalf("rename: %v, want %v", err, tc.wantErr)
				}
				if got, _ := os.ReadFile(target); string(got) != tc.wantData {
					t.Errorf("target holds %q, want %q", got, tc.wantData)
				}
				_, serr := os.Stat(src)
				if kept := serr == nil; kept != (tc.wantErr != nil) {
					t.Errorf("source kept: %v, want %v", kept, tc.wantErr != nil)
				}
			})
		}
	}
	dir := t.TempDir()
	src, target := filepath.Join(dir, "part"), filepath.Join(dir, "target")
	mustWrite(t, src, "new version")
	mustWrite(t, target, "the user's file")
	if err := renameTo(src, target, New); !errors.Is(err, ErrTargetExists) || !errors.Is(err, fs.ErrExist) {
		t.Errorf("renameTo New over a file: %v, want ErrTargetExists", err)
	}
	if err := renameTo(src, target, Replace); err != nil {
		t.Errorf("renameTo Replace: %v", err)
	}
	if got, _ := os.ReadFile(target); string(got) != "new version" {
		t.Errorf("Replace left %q", got)
	}
}

func mustWrite(t *testing.T, p, data string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
