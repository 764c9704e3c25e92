package peer

import (
	"log/slog"

	"github.com/dartsync/dartsync/manifest"
)

// localSummary counts the local changes one report recorded, for the one
// info line it logs (each change is a debug line: a first scan of a large
// folder must not log a line per file).
type localSummary struct {
	files, deleted int
	bytes          int64
	first          string // the path, when there is only one
}

func (s *localSummary) add(m *manifest.Manifest) {
	if s.files == 0 {
		s.first = m.Path
	}
	s.files++
	if m.Deleted {
		s.deleted++
	} else {
		s.bytes += m.Size
	}
}

// log logs the summary at info level, naming the path of a lone change.
func (s *localSummary) log(l *slog.Logger) {
	switch s.files {
	case 0:
	case 1:
		l.Info("local changes reported", "files", 1, "path", s.first, "deleted", s.deleted, "bytes", s.bytes)
	default:
		l.Info("local changes reported", "files", s.files, "deleted", s.deleted, "bytes", s.bytes)
	}
}
