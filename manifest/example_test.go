package manifest_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/dartsync/dartsync/manifest"
)

func ExampleBuild() {
	m, err := manifest.Build(context.Background(), strings.NewReader("hello, world\n"), manifest.MinPieceSize)
	if err != nil {
		panic(err)
	}
	m.Path = "greeting.txt"
	enc, err := manifest.Marshal(&m)
	if err != nil {
		panic(err)
	}
	back, err := manifest.Unmarshal(enc)
	if err != nil {
		panic(err)
	}
	fmt.Println(back.Path, back.Size, len(back.Pieces), back.Pieces[0].Hash.Short(), back.ID == m.ID)
	// Output: greeting.txt 13 1 623a5460 true
}
