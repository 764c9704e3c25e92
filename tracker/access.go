package tracker

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// Grant is the set of folders a member may sync (docs/ACCESS.md). The zero
// Grant allows nothing; AllFolders allows every folder, present and future.
type Grant struct {
	All     bool     // every folder
	Folders []string // otherwise exactly these, sorted, no repeats; "" is the default folder
}

// AllFolders is the grant of a device that joined with the tracker's own
// join token, and of every member of a state written before grants existed.
func AllFolders() Grant { return Grant{All: true} }

// FolderGrant returns the grant of exactly folders (at least one; each a
// valid folder name, "" being the default folder). Repeats are dropped.
func FolderGrant(folders ...string) (Grant, error) {
	if len(folders) == 0 {
		return Grant{}, fmt.Errorf("tracker: a folder grant names at least one folder")
	}
	if len(folders) > MaxGrantFolders {
		return Grant{}, fmt.Errorf("tracker: a grant names at most %d folders, not %d", MaxGrantFolders, len(folders))
	}
	for _, f := range folders {
		if err := checkFolderName(f); err != nil {
			return Grant{}, err
		}
	}
	fs := slices.Clone(folders)
	slices.Sort(fs)
	return Grant{Folders: slices.Compact(fs)}, nil
}

// MaxGrantFolders bounds the folders one grant or token names.
const MaxGrantFolders = 1024

// checkFolderName is the rule of REGISTER's folder field (tracker.proto).
func checkFolderName(f string) error {
	if len(f) > MaxFolderLen || !utf8.ValidString(f) || strings.ContainsRune(f, 0) {
		return fmt.Errorf("tracker: folder name %q: at most %d bytes of UTF-8 without NUL", f, MaxFolderLen)
	}
	return nil
}

// Allows reports whether the grant includes folder.
func (g Grant) Allows(folder string) bool {
	if g.All {
		return true
	}
	_, found := slices.BinarySearch(g.Folders, folder)
	return found
}

// String is "all folders" or the folders separated by commas ("" shown as
// DefaultFolderName).
func (g Grant) String() string {
	if g.All {
		return "all folders"
	}
	names := make([]string, len(g.Folders))
	for i, f := range g.Folders {
		names[i] = FolderDisplayName(f)
	}
	return strings.Join(names, ",")
}

// DefaultFolderName is how the default folder ("" on the wire) is written
// in grants on the command line and in logs.
const DefaultFolderName = "(default)"

// FolderDisplayName returns f, or DefaultFolderName for "".
func FolderDisplayName(f string) string {
	if f == "" {
		return DefaultFolderName
	}
	return f
}

// ParseFolderList parses a comma-separated list of folder names as written
// on the command line (DefaultFolderName is the default folder) into a
// grant. Empty elements are an error.
func ParseFolderList(s string) (Grant, error) {
	if strings.TrimSpace(s) == "" {
		return Grant{}, fmt.Errorf("tracker: empty folder list")
	}
	parts := strings.Split(s, ",")
	for i, p := range parts {
		switch p {
		case "":
			return Grant{}, fmt.Errorf("tracker: folder list %q: empty name at position %d", s, i+1)
		case DefaultFolderName:
			parts[i] = ""
		}
	}
	return FolderGrant(parts...)
}

// grantFromRecord reads a stored grant; nil (no record) is every folder.
func grantFromRecord(r *trackerpb.MemberRecord) Grant {
	if r == nil || r.AllFolders {
		return AllFolders()
	}
	return Grant{Folders: r.Folders}
}

// errFolderNotShared is the ERROR a member gets for a folder outside its grant.
func errFolderNotShared(folder string) *remoteError {
	return &remoteError{trackerpb.ErrorCode_ERROR_FOLDER_NOT_SHARED,
		"folder not shared: folder " + quoteFolder(folder) + " is not shared with this device; ask the tracker's owner (dartsync tracker members --folders)"}
}

func quoteFolder(f string) string {
	if f == "" {
		return DefaultFolderName
	}
	return fmt.Sprintf("%q", f)
}
