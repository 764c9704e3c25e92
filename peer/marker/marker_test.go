package marker

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteRead(t *testing.T) {
	root := t.TempDir()
	state := filepath.Join(t.TempDir(), "state")
	want := Marker{Folder: "photos", Device: "DEV", StateDir: state}
	if err := Write(root, want); err != nil {
		t.Fatal(err)
	}
	got, err := Read(root)
	if err != nil {
		t.Fatal(err)
	}
	want.Version = version
	if got != want {
		t.Fatalf("Read = %+v, want %+v", got, want)
	}
}

func TestRead(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(root string)
		wantErr error // nil: any non-nil error must be reported (see bad)
		bad     bool
	}{
		{"folder missing", func(root string) { os.RemoveAll(root) }, ErrMissing, true},
		{"state dir missing", func(string) {}, ErrMissing, true},
		{"file missing", func(root string) { os.Mkdir(filepath.Join(root, ".dartsync"), 0o700) }, ErrMissing, true},
		{"garbage", func(root string) { writeRaw(root, "{not json") }, nil, true},
		{"relative state", func(root string) { writeRaw(root, `{"version":1,"state_dir":"rel"}`) }, nil, true},
		{"no version", func(root string) { writeRaw(root, `{"state_dir":"/abs"}`) }, nil, true},
		{"too large", func(root string) { writeRaw(root, `{"folder":"`+strings.Repeat("x", maxSize)+`"}`) }, nil, true},
		{"newer version", func(root string) { writeRaw(root, `{"version":7,"state_dir":"/abs","extra":1}`) }, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "dir")
			if err := os.Mkdir(root, 0o755); err != nil {
				t.Fatal(err)
			}
			tt.setup(root)
			_, err := Read(root)
			if tt.bad != (err != nil) {
				t.Fatalf("Read err = %v, want error: %v", err, tt.bad)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Read err = %v, want %v", err, tt.wantErr)
			}
			if tt.bad && tt.wantErr == nil && errors.Is(err, ErrMissing) {
				t.Fatalf("Read err = %v: a present but bad marker is not 'missing'", err)
			}
		})
	}
}

func TestWriteNeedsFolder(t *testing.T) {
	root := filepath.Join(t.TempDir(), "absent")
	if err := Write(root, Marker{StateDir: "/abs"}); err == nil {
		t.Fatal("Write created a missing folder")
	}
	if _, err := os.Stat(root); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("folder exists after a refused Write: %v", err)
	}
}

func writeRaw(root, s string) {
	os.MkdirAll(filepath.Join(root, ".dartsync"), 0o700)
	os.WriteFile(Path(root), []byte(s), 0o644)
}
