package dashboard

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SecretFile is the admin secret's file name in the tracker's state directory.
const SecretFile = "admin.secret"

// secretBytes is the admin secret's entropy.
const secretBytes = 20

// ErrBadSecretFile: admin.secret exists but does not hold a secret, or is
// readable by others than its owner.
var ErrBadSecretFile = errors.New("dashboard: bad admin secret file")

// LoadOrCreateSecret returns the admin secret kept in dir/admin.secret,
// creating the file (0600, a random secret) if it does not exist. A file
// that others may read, or that is empty, is an error wrapping
// ErrBadSecretFile.
func LoadOrCreateSecret(dir string) (string, error) {
	p := filepath.Join(dir, SecretFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return createSecret(p)
	}
	if err != nil {
		return "", fmt.Errorf("dashboard: read admin secret: %w", err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("dashboard: admin secret: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%w: %s is readable by others (mode %v); chmod 600 it", ErrBadSecretFile, p, fi.Mode().Perm())
	}
	s := strings.TrimSpace(string(b))
	if len(s) < 16 {
		return "", fmt.Errorf("%w: %s holds no secret (delete it to make a new one)", ErrBadSecretFile, p)
	}
	return s, nil
}

func createSecret(p string) (string, error) {
	var raw [secretBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("dashboard: make admin secret: %w", err)
	}
	s := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw[:]))
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("dashboard: write admin secret: %w", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return "", fmt.Errorf("dashboard: write admin secret: %w", err)
	}
	// Link, not rename: a concurrent start that created it first wins.
	if err := os.Link(tmp, p); err != nil {
		os.Remove(tmp)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateSecret(filepath.Dir(p))
		}
		return "", fmt.Errorf("dashboard: write admin secret: %w", err)
	}
	os.Remove(tmp)
	return s, nil
}
