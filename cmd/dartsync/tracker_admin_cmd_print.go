package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dartsync/dartsync/tracker"
	"github.com/dartsync/dartsync/tracker/admin"
)

// printMembers writes one line per member, and nothing else: full device
// ID, name, folders, joined, last seen ("connected (FOLDERS)" for a member
// with a live session), aligned.
func printMembers(w io.Writer, ms []admin.Member) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, m := range ms {
		name := m.Name
		if name == "" {
			name = "-"
		}
		seen := timeText(m.LastSeen)
		if len(m.Connected) > 0 {
			seen = "connected (" + grantText(false, m.Connected) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Device, name, grantText(m.AllFolders, m.Folders), timeText(m.Joined), seen)
	}
	return tw.Flush()
}

// grantText is "all" or the folders as --folders takes them.
func grantText(all bool, folders []string) string {
	if all {
		return "all"
	}
	names := make([]string, len(folders))
	for i, f := range folders {
		names[i] = tracker.FolderDisplayName(f)
	}
	return strings.Join(names, ",")
}

func timeText(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}

func writeIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
