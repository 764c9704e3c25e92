package transfer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/peerpb"
)

func frame(t testing.TB, m proto.Message) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := wire.Write(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func rawFrame(body []byte) []byte {
	b := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(b, uint32(len(body)))
	copy(b[4:], body)
	return b
}

func pieceReq(h []byte, n uint32) *peerpb.Request {
	return &peerpb.Request{Body: &peerpb.Request_Piece{Piece: &peerpb.PieceRequest{Hash: h, Length: n}}}
}

// decodePieceRequest is what the server does with a piece request stream.
func decodePieceRequest(r io.Reader) (pieceRequest, error) {
	req, err := decodeRequest(r)
	if err != nil {
		return pieceRequest{}, err
	}
	p := req.GetPiece()
	if p == nil {
		return pieceRequest{}, fmt.Errorf("%w: not a piece request", ErrBadRequest)
	}
	return parsePieceRequest(p)
}

func TestDecodeRequest(t *testing.T) {
	h := manifest.Hash([]byte("piece"))
	good := frame(t, pieceReq(h[:], 1000))
	tests := []struct {
		name    string
		in      []byte
		want    pieceRequest
		wantErr error
	}{
		{"valid", good, pieceRequest{hash: h, length: 1000}, nil},
		{"max length", frame(t, pieceReq(h[:], MaxPieceLen)), pieceRequest{hash: h, length: MaxPieceLen}, nil},
		{"empty stream", nil, pieceRequest{}, io.EOF},
		{"truncated header", good[:2], pieceRequest{}, ErrBadRequest},
		{"truncated body", good[:len(good)-1], pieceRequest{}, ErrBadRequest},
		{"trailing data", append(append([]byte{}, good...), 0), pieceRequest{}, ErrBadRequest},
		{"two requests", append(append([]byte{}, good...), good...), pieceRequest{}, ErrBadRequest},
		{"frame too large", rawFrame(make([]byte, MaxRequestFrame+1)), pieceRequest{}, ErrBadRequest},
		{"garbage body", rawFrame([]byte{0xff, 0xff, 0xff}), pieceRequest{}, ErrBadRequest},
		{"no body kind", frame(t, &peerpb.Request{}), pieceRequest{}, ErrBadRequest},
		{"short hash", frame(t, pieceReq(h[:31], 10)), pieceRequest{}, ErrBadRequest},
		{"zero length", frame(t, pieceReq(h[:], 0)), pieceRequest{}, ErrBadRequest},
		{"oversized", frame(t, pieceReq(h[:], MaxPieceLen+1)), pieceRequest{}, ErrBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodePieceRequest(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadResponse(t *testing.T) {
	ok := frame(t, &peerpb.Response{Status: peerpb.Status_STATUS_OK, Length: 100})
	tests := []struct {
		name    string
		in      []byte
		length  int
		wantErr error
	}{
		{"ok", ok, 100, nil},
		{"wrong length", ok, 99, ErrProtocol},
		{"not found", frame(t, &peerpb.Response{Status: peerpb.Status_STATUS_NOT_FOUND, Message: "no"}), 100, ErrNotFound},
		{"busy", frame(t, &peerpb.Response{Status: peerpb.Status_STATUS_BUSY}), 100, ErrBusy},
		{"forbidden", frame(t, &peerpb.Response{Status: peerpb.Status_STATUS_FORBIDDEN}), 100, ErrForbidden},
		{"bad request", frame(t, &peerpb.Response{Status: peerpb.Status_STATUS_BAD_REQUEST}), 100, ErrBadRequest},
		{"unspecified", frame(t, &peerpb.Response{}), 100, ErrProtocol},
		{"unknown status", frame(t, &peerpb.Response{Status: 99}), 100, ErrProtocol},
		{"empty", nil, 100, ErrProtocol},
		{"truncated", ok[:3], 100, ErrProtocol},
		{"too large", rawFrame(make([]byte, MaxResponseFrame+1)), 100, ErrProtocol},
		{"garbage", rawFrame([]byte{0x0a, 0xff}), 100, ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := readResponse(bytes.NewReader(tt.in), tt.length)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// FuzzDecodeRequest: no input may crash the decoder, and anything accepted
// is within limits and re-encodes to a request that decodes the same.
func FuzzDecodeRequest(f *testing.F) {
	h := manifest.Hash([]byte("seed"))
	f.Add(frame(f, pieceReq(h[:], 4096)))
	f.Add(frame(f, pieceReq(h[:4], 4096)))
	f.Add(rawFrame([]byte{0xff}))
	f.Add([]byte{0, 0, 0})
	named := pieceReq(h[:], 4096)
	named.Folder = "photos"
	f.Add(frame(f, named))
	f.Fuzz(func(t *testing.T, in []byte) {
		req, err := decodeRequest(bytes.NewReader(in))
		var got pieceRequest
		if err == nil {
			if req.GetPiece() == nil {
				return
			}
			got, err = parsePieceRequest(req.GetPiece())
		}
		if err != nil {
			if !errors.Is(err, ErrBadRequest) && !errors.Is(err, io.EOF) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if got.length <= 0 || got.length > MaxPieceLen || len(req.GetFolder()) > MaxFolderName {
			t.Fatalf("accepted length %d, folder of %d bytes", got.length, len(req.GetFolder()))
		}
		var b bytes.Buffer
		if err := writePieceRequest(&b, req.GetFolder(), got.hash, got.length); err != nil {
			t.Fatal(err)
		}
		again, err := decodeRequest(&b)
		if err != nil || again.GetFolder() != req.GetFolder() {
			t.Fatalf("re-decode: %v, %v; want folder %q", again, err, req.GetFolder())
		}
		againPiece, err := parsePieceRequest(again.GetPiece())
		if err != nil || againPiece != got {
			t.Fatalf("re-decode: %+v, %v; want %+v", againPiece, err, got)
		}
	})
}

// FuzzReadResponse: no input may crash the response decoder; errors are
// always classified.
func FuzzReadResponse(f *testing.F) {
	f.Add(frame(f, &peerpb.Response{Status: peerpb.Status_STATUS_OK, Length: 7}), 7)
	f.Add(frame(f, &peerpb.Response{Status: peerpb.Status_STATUS_NOT_FOUND, Message: "x"}), 7)
	f.Add([]byte{0, 0, 0, 1, 0xff}, 1)
	f.Fuzz(func(t *testing.T, in []byte, length int) {
		err := readResponse(bytes.NewReader(in), length)
		if err == nil {
			return
		}
		for _, want := range []error{ErrProtocol, ErrNotFound, ErrBusy, ErrForbidden, ErrBadRequest} {
			if errors.Is(err, want) {
				return
			}
		}
		if bytes.Contains([]byte(err.Error()), []byte("source failed")) {
			return
		}
		t.Fatalf("unclassified error: %v", err)
	})
}
