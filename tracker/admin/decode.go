package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of a request's content.
const (
	maxFolders    = 1024
	maxFolderLen  = 255
	maxExpiresIn  = 10 * 365 * 24 * time.Hour
	maxDeviceText = 128
)

// DecodeTokenRequest decodes and checks a POST /v1/tokens body; it returns
// the folders and the validity (0: no expiry). Errors wrap ErrInvalid.
func DecodeTokenRequest(body []byte) (folders []string, ttl time.Duration, err error) {
	var r TokenRequest
	if err := decodeStrict(body, &r); err != nil {
		return nil, 0, err
	}
	if len(r.Folders) == 0 {
		return nil, 0, fmt.Errorf("%w: a token names at least one folder", ErrInvalid)
	}
	if err := checkFolders(r.Folders); err != nil {
		return nil, 0, err
	}
	if r.ExpiresIn != "" {
		if ttl, err = time.ParseDuration(r.ExpiresIn); err != nil {
			return nil, 0, fmt.Errorf("%w: expires_in: %v", ErrInvalid, err)
		}
		if ttl < 0 || ttl > maxExpiresIn {
			return nil, 0, fmt.Errorf("%w: expires_in %v outside [0, %v]", ErrInvalid, ttl, maxExpiresIn)
		}
	}
	return r.Folders, ttl, nil
}

// DecodeFoldersRequest decodes and checks a PUT /v1/members/{device}/folders
// body. Exactly one of all_folders and a non-empty folders is set. Errors
// wrap ErrInvalid.
func DecodeFoldersRequest(body []byte) (all bool, folders []string, err error) {
	var r FoldersRequest
	if err := decodeStrict(body, &r); err != nil {
		return false, nil, err
	}
	if r.AllFolders == (len(r.Folders) > 0) {
		return false, nil, fmt.Errorf("%w: give either all_folders or a non-empty folders list", ErrInvalid)
	}
	if err := checkFolders(r.Folders); err != nil {
		return false, nil, err
	}
	return r.AllFolders, r.Folders, nil
}

// CheckDevice checks the {device} path element: a device ID or a prefix.
func CheckDevice(s string) error {
	if len(s) < 7 || len(s) > maxDeviceText {
		return fmt.Errorf("%w: device %q: give the device ID or at least its first 7 characters", ErrInvalid, s)
	}
	for _, c := range s {
		if !(c == '-' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return fmt.Errorf("%w: device %q: not a device ID", ErrInvalid, s)
		}
	}
	return nil
}

func checkFolders(fs []string) error {
	if len(fs) > maxFolders {
		return fmt.Errorf("%w: %d folders, at most %d", ErrInvalid, len(fs), maxFolders)
	}
	for _, f := range fs {
		if len(f) > maxFolderLen || !utf8.ValidString(f) || strings.ContainsRune(f, 0) {
			return fmt.Errorf("%w: folder name %q: at most %d bytes of UTF-8 without NUL", ErrInvalid, f, maxFolderLen)
		}
	}
	return nil
}

// decodeStrict decodes one JSON object into v: at most MaxRequestSize
// bytes, no unknown fields, nothing after it.
func decodeStrict(body []byte, v any) error {
	if len(body) > MaxRequestSize {
		return fmt.Errorf("%w: body of %d bytes, at most %d", ErrInvalid, len(body), MaxRequestSize)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: body: %v", ErrInvalid, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: body: data after the JSON object", ErrInvalid)
	}
	return nil
}
