package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dartsync/dartsync/manifest"
)

// manifestCmd prints the manifest of one local file: its file ID, size, piece
// size and piece count, and with --json every piece. Users compare the
// output across machines the way they compare b3sum output.
type manifestCmd struct {
	File      string   `arg:"" type:"path" help:"The file to describe."`
	PieceSize byteSize `name:"piece-size" default:"1MiB" help:"Piece size: bytes, or with a unit (4KiB, 1MiB, 16MiB). The file ID depends on it."`
	JSON      bool     `name:"json" help:"Print the manifest as JSON, with every piece (hash, weak checksum, offset, length)."`

	stdout io.Writer // nil means os.Stdout; set by tests
}

func (c *manifestCmd) Run(ctx context.Context, log *slog.Logger) error {
	out := c.stdout
	if out == nil {
		out = os.Stdout
	}
	ps := int64(c.PieceSize)
	if ps == 0 {
		ps = manifest.DefaultPieceSize
	}
	if err := manifest.CheckPieceSize(ps); err != nil {
		return withExitCode(2, err)
	}
	f, err := os.Open(c.File)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: %w", c.File, manifest.ErrNotRegular)
	}
	m, err := manifest.Build(ctx, f, ps)
	if err != nil {
		return fmt.Errorf("%s: %w", c.File, err)
	}
	m.Path = filepath.ToSlash(c.File)
	m.ModTime = fi.ModTime().UnixNano()
	m.Exec = fi.Mode().Perm()&0o111 != 0
	log.Debug("manifest built", "file", c.File, "size", m.Size, "pieces", len(m.Pieces))

	w := bufio.NewWriterSize(out, 64<<10)
	if c.JSON {
		err = json.NewEncoder(w).Encode(manifestJSONOf(&m))
	} else {
		_, err = fmt.Fprintf(w, "file        %s\nid          %s\nsize        %d\npiece size  %d\npieces      %d\n",
			m.Path, m.ID, m.Size, m.PieceSize, len(m.Pieces))
	}
	if err != nil {
		return err
	}
	return w.Flush()
}

// manifestJSON is the --json output.
type manifestJSON struct {
	Path       string      `json:"path"`
	ID         string      `json:"id"`
	Size       int64       `json:"size"`
	PieceSize  int64       `json:"piece_size"`
	PieceCount int         `json:"piece_count"`
	ModTimeNs  int64       `json:"mod_time_ns"`
	Executable bool        `json:"executable"`
	Pieces     []pieceJSON `json:"pieces"`
}

type pieceJSON struct {
	Index  int    `json:"index"`
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
	Hash   string `json:"hash"`
	Weak   string `json:"weak"` // 8 hex digits, big-endian
}

func manifestJSONOf(m *manifest.Manifest) manifestJSON {
	j := manifestJSON{
		Path: m.Path, ID: m.ID.String(), Size: m.Size, PieceSize: m.PieceSize,
		PieceCount: len(m.Pieces), ModTimeNs: m.ModTime, Executable: m.Exec,
		Pieces: make([]pieceJSON, len(m.Pieces)),
	}
	for i, p := range m.Pieces {
		w := p.Weak
		j.Pieces[i] = pieceJSON{
			Index: i, Offset: m.PieceOffset(i), Length: m.PieceLen(i), Hash: p.Hash.String(),
			Weak: hex.EncodeToString([]byte{byte(w >> 24), byte(w >> 16), byte(w >> 8), byte(w)}),
		}
	}
	return j
}

// byteSize is a size in bytes on the command line: a plain number
// ("1048576") or a number with a binary unit ("4KiB", "1MiB", "1GiB"; "K",
// "M", "G" mean the same; case does not matter).
type byteSize int64

func (s *byteSize) UnmarshalText(text []byte) error {
	v, err := parseByteSize(string(text))
	if err != nil {
		return err
	}
	*s = byteSize(v)
	return nil
}

func (s byteSize) String() string { return strconv.FormatInt(int64(s), 10) }

func parseByteSize(text string) (int64, error) {
	t := strings.TrimSpace(text)
	num := strings.TrimRightFunc(t, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.ToLower(strings.TrimSpace(t[len(num):]))
	var mult int64
	switch unit {
	case "", "b":
		mult = 1
	case "k", "kib":
		mult = 1 << 10
	case "m", "mib":
		mult = 1 << 20
	case "g", "gib":
		mult = 1 << 30
	default:
		return 0, fmt.Errorf("size %q: unknown unit %q (use bytes, KiB, MiB or GiB)", text, unit)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: not a number of bytes", text)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: too large", text)
	}
	return n * mult, nil
}
