package identity

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func seqID() DeviceID {
	var d DeviceID
	for i := range d {
		d[i] = byte(i)
	}
	return d
}

// Golden vector: the layout is part of what users copy between machines, so
// it must never change silently.
const seqIDString = "AAAQEAY-EAUDAO5-CAJBIFQ-YDIOB4X-IBCEQTC-QKRMFYM-YDENBWH-A5DYPQS" // verified with an independent Python Luhn mod 32

func TestDeviceIDStringGolden(t *testing.T) {
	got := seqID().String()
	if got != seqIDString {
		t.Fatalf("String() = %s, want %s", got, seqIDString)
	}
	if len(got) != StringLen {
		t.Fatalf("len = %d, want %d", len(got), StringLen)
	}
	if s := seqID().Short(); s != seqIDString[:7] {
		t.Fatalf("Short() = %s", s)
	}
}

func TestParseDeviceID(t *testing.T) {
	good := seqIDString
	// Replace one character of the first block by another alphabet character.
	typo := "B" + good[1:]
	swapped := good[:3] + good[4:5] + good[3:4] + good[5:] // swap characters 4 and 5 (Q,E)
	badCheck := good[:len(good)-1] + "A"
	tests := []struct {
		name    string
		in      string
		want    DeviceID
		wantErr error
	}{
		{"canonical", good, seqID(), nil},
		{"lower case", strings.ToLower(good), seqID(), nil},
		{"no dashes", strings.ReplaceAll(good, "-", ""), seqID(), nil},
		{"spaces", strings.ReplaceAll(good, "-", " "), seqID(), nil},
		{"digits for letters", strings.ReplaceAll(strings.ReplaceAll(good, "O", "0"), "I", "1"), seqID(), nil},
		{"empty", "", DeviceID{}, ErrBadDeviceID},
		{"too short", good[:len(good)-1], DeviceID{}, ErrBadDeviceID},
		{"too long", good + "A", DeviceID{}, ErrBadDeviceID},
		{"bad char", "!" + good[1:], DeviceID{}, ErrBadDeviceID},
		{"digit 9", "9" + good[1:], DeviceID{}, ErrBadDeviceID},
		{"without checks (52 chars)", "AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPQ", DeviceID{}, ErrBadDeviceID},
		{"typo", typo, DeviceID{}, ErrBadCheck},
		{"swap", swapped, DeviceID{}, ErrBadCheck},
		{"bad check char", badCheck, DeviceID{}, ErrBadCheck},
		{"unicode", "Ä" + good[2:], DeviceID{}, ErrBadDeviceID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseDeviceID(tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// Every single-character substitution anywhere must be caught (by a check
// character or, for the check characters themselves, likewise).
func TestParseDeviceIDCatchesEverySubstitution(t *testing.T) {
	s := []byte(seqIDString)
	for i := range s {
		if s[i] == '-' {
			continue
		}
		for _, c := range []byte(luhnAlphabet) {
			if c == seqIDString[i] {
				continue
			}
			s[i] = c
			if _, err := ParseDeviceID(string(s)); err == nil {
				t.Errorf("substitution %q at %d accepted", c, i)
			}
		}
		s[i] = seqIDString[i]
	}
}

func TestDeviceIDRoundTripAndText(t *testing.T) {
	for i := range 200 {
		id, err := New()
		if err != nil {
			t.Fatal(err)
		}
		d := id.ID
		if i == 0 {
			d = DeviceID{}
		}
		back, err := ParseDeviceID(d.String())
		if err != nil || back != d {
			t.Fatalf("round trip %s: %v %v", d, back, err)
		}
		b, err := json.Marshal(map[string]DeviceID{"id": d})
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]DeviceID
		if err := json.Unmarshal(b, &m); err != nil || m["id"] != d {
			t.Fatalf("json round trip: %s %v", b, err)
		}
	}
	var d DeviceID
	if err := d.UnmarshalText([]byte("nope")); !errors.Is(err, ErrBadDeviceID) {
		t.Fatalf("UnmarshalText err = %v", err)
	}
}

func TestDeviceIDCompareZero(t *testing.T) {
	a, b := DeviceID{}, seqID()
	if !a.IsZero() || b.IsZero() {
		t.Fatal("IsZero wrong")
	}
	if a.Compare(b) != -1 || b.Compare(a) != 1 || b.Compare(b) != 0 {
		t.Fatal("Compare wrong")
	}
}

func FuzzParseDeviceID(f *testing.F) {
	f.Add(seqIDString)
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDeviceID(s)
		if err != nil {
			if !errors.Is(err, ErrBadDeviceID) && !errors.Is(err, ErrBadCheck) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			if d != (DeviceID{}) {
				t.Fatalf("non-zero ID with error")
			}
			return
		}
		// Accepted input must be the canonical string modulo case, dashes,
		// spaces and 0/1/8.
		norm := strings.NewReplacer("-", "", " ", "", "0", "O", "1", "I", "8", "B").Replace(strings.ToUpper(s))
		if norm != strings.ReplaceAll(d.String(), "-", "") {
			t.Fatalf("accepted %q as %s", s, d)
		}
		back, err := ParseDeviceID(d.String())
		if err != nil || !bytes.Equal(back[:], d[:]) {
			t.Fatalf("re-parse: %v", err)
		}
	})
}

func TestDeviceIDGoldenFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "deviceid_golden.txt"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		hexID, want, ok := strings.Cut(line, " ")
		raw, err := hex.DecodeString(hexID)
		if !ok || err != nil || len(raw) != 32 {
			t.Fatalf("bad golden line %q", line)
		}
		d := DeviceID(raw)
		if got := d.String(); got != want {
			t.Errorf("%s: String() = %s, want %s", hexID, got, want)
		}
		if back, err := ParseDeviceID(want); err != nil || back != d {
			t.Errorf("ParseDeviceID(%s) = %x, %v", want, back, err)
		}
		n++
	}
	if n < 5 {
		t.Fatalf("only %d golden vectors", n)
	}
}

func ExampleParseDeviceID() {
	id, err := ParseDeviceID("aaaqeay eaudao5 cajbifq ydiob4x ibceqtc qkrmfym ydenbwh a5dypqs")
	fmt.Println(id, err)
	fmt.Println(id.Short())
	_, err = ParseDeviceID("AAAQEAY-EAUDAO5-CAJBIFQ-YDIOB4X-IBCEQTC-QKRMFYM-YDENBWH-A5DYPQA")
	fmt.Println(err)
	// Output:
	// AAAQEAY-EAUDAO5-CAJBIFQ-YDIOB4X-IBCEQTC-QKRMFYM-YDENBWH-A5DYPQS <nil>
	// AAAQEAY
	// device ID check character mismatch (typo?): block 4 (characters 43-56) ends in 'A', want 'S'
}
