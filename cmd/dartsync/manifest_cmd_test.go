package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/dartsync/dartsync/manifest"
)

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"1048576", 1 << 20, false},
		{"4KiB", 4 << 10, false},
		{"4kib", 4 << 10, false},
		{"1MiB", 1 << 20, false},
		{"16M", 16 << 20, false},
		{"2 MiB", 2 << 20, false},
		{"1GiB", 1 << 30, false},
		{"4096B", 4096, false},
		{"0", 0, false},
		{"", 0, true},
		{"MiB", 0, true},
		{"1.5MiB", 0, true},
		{"-1", 0, true},
		{"4MB", 0, true},
		{"1TiB", 0, true},
		{"99999999999999999999", 0, true},
		{"9999999999999G", 0, true},
	}
	for _, tt := range tests {
		got, err := parseByteSize(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// goldenSeveralPieces is the "several-pieces" vector of
// testdata/manifest/vectors.json, read from there.
func goldenSeveralPieces(t *testing.T) (data []byte, want manifestJSON) {
	t.Helper()
	b, err := os.ReadFile("../../testdata/manifest/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []struct {
			Name      string      `json:"name"`
			Size      int64       `json:"size"`
			PieceSize int64       `json:"piece_size"`
			FileID    string      `json:"file_id"`
			Pieces    []pieceJSON `json:"pieces"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, v := range f.Vectors {
		if v.Name != "several-pieces" {
			continue
		}
		data = make([]byte, v.Size)
		for i := range data {
			data[i] = byte((7*i + 3) % 251) // the documented generator
		}
		for i := range v.Pieces {
			v.Pieces[i].Index = i
		}
		return data, manifestJSON{ID: v.FileID, Size: v.Size, PieceSize: v.PieceSize, PieceCount: len(v.Pieces), Pieces: v.Pieces}
	}
	t.Fatal("no several-pieces vector")
	return nil, manifestJSON{}
}

// runManifest parses args like the real command line and runs the command.
func runManifest(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var c cli
	parser, err := kong.New(&c, kong.Name("dartsync"), kong.Exit(func(int) { t.Fatal("kong exited") }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.Parse(append([]string{"manifest"}, args...)); err != nil {
		return "", err
	}
	var out bytes.Buffer
	c.Manifest.stdout = &out
	err = c.Manifest.Run(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	return out.String(), err
}

func TestManifestCmd(t *testing.T) {
	data, want := goldenSeveralPieces(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "several.bin")
	if err := os.WriteFile(file, data, 0o755); err != nil {
		t.Fatal(err)
	}

	text, err := runManifest(t, file, "--piece-size", "4KiB")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"id          " + want.ID, "size        12388", "piece size  4096", "pieces      4"} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("text output lacks %q:\n%s", line, text)
		}
	}

	out, err := runManifest(t, "--json", "--piece-size=4096", file)
	if err != nil {
		t.Fatal(err)
	}
	var got manifestJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	if got.Path != filepath.ToSlash(file) || !got.Executable || got.ModTimeNs == 0 {
		t.Errorf("path %q executable %v mtime %d", got.Path, got.Executable, got.ModTimeNs)
	}
	got.Path, got.Executable, got.ModTimeNs = "", false, 0
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("--json:\n got %s\nwant %s", gotJSON, wantJSON)
	}

	// Default piece size: one piece for this small file.
	text, err = runManifest(t, file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "piece size  1048576\npieces      1\n") {
		t.Errorf("default piece size output:\n%s", text)
	}
}

func TestManifestCmdErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantErr  error // nil: any error
		wantCode int   // 0: no particular exit code
	}{
		{"missing file", []string{filepath.Join(dir, "nope")}, os.ErrNotExist, 0},
		{"directory", []string{dir}, manifest.ErrNotRegular, 0},
		{"piece size too small", []string{file, "--piece-size", "1KiB"}, manifest.ErrPieceSize, 2},
		{"piece size too large", []string{file, "--piece-size", "32MiB"}, manifest.ErrPieceSize, 2},
		{"piece size unit", []string{file, "--piece-size", "4XB"}, nil, 0},
	}
	for _, tt := range tests {
		_, err := runManifest(t, tt.args...)
		if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.wantErr)
			continue
		}
		var ee *exitError
		if tt.wantCode != 0 && (!errors.As(err, &ee) || ee.code != tt.wantCode) {
			t.Errorf("%s: error %v, want exit code %d", tt.name, err, tt.wantCode)
		}
	}
}
