package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/alecthomas/kong"
)

// The config file (README, "Config file"; contrib/dartsync.json): a JSON
// object whose keys are the long names of dartsync peer's flags
// ("dir", "tracker", "state", "keep-versions", also spelled
// "keep_versions" or "keepVersions"), read by kong's JSON loader. A repeatable flag
// takes a JSON array ("dir": ["work=~/work", "photos=~/photos"]), a
// duration or size its text ("30d", "10%"). Flags on the command line win
// over the file. The file applies to dartsync peer only.

// defaultConfigFile is where dartsync peer looks for its config file when
// --config is not given: os.UserConfigDir()/dartsync/config.json; "" if
// there is no user config directory.
func defaultConfigFile() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "dartsync", "config.json")
}

// configFileOptions are the parser's options for the config file: kong's
// JSON loader, limited to dartsync peer's flags, for --config FILE, and a
// resolver of the default file when it exists (it gives way to --config).
func configFileOptions() []kong.Option {
	path := defaultConfigFile()
	opts := []kong.Option{
		kong.Configuration(func(r io.Reader) (kong.Resolver, error) {
			res, err := loadJSON(r)
			if err != nil {
				return nil, err
			}
			return peerOnly(res, false), nil
		}),
	}
	if res := defaultConfig(path); res != nil {
		opts = append(opts, kong.Resolvers(res))
	}
	return opts
}

// defaultConfig is the resolver of the default config file at path; nil
// when there is none. A file that cannot be read or parsed fails the
// parse of dartsync peer (only).
func defaultConfig(path string) kong.Resolver {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var res kong.Resolver
	if err == nil {
		res, err = loadJSON(f)
		f.Close()
	}
	if err != nil {
		err = fmt.Errorf("config file %s: %w", path, err)
		res = kong.ResolverFunc(func(*kong.Context, *kong.Path, *kong.Flag) (any, error) { return nil, err })
	}
	return peerOnly(res, true)
}

// loadJSON is kong's JSON loader on the file r, whose top-level keys may
// also be spelled as on the command line ("keep-versions": kong's loader
// itself knows "keep_versions" and "keepVersions" only).
func loadJSON(r io.Reader) (kong.Resolver, error) {
	var values map[string]json.RawMessage
	if err := json.NewDecoder(r).Decode(&values); err != nil {
		return nil, err
	}
	norm := make(map[string]json.RawMessage, len(values))
	for k, v := range values {
		norm[strings.ReplaceAll(k, "-", "_")] = v
	}
	b, err := json.Marshal(norm)
	if err != nil {
		return nil, err
	}
	return kong.JSON(bytes.NewReader(b))
}

// peerOnly resolves res for the flags of dartsync peer only (the tracker
// has flags of the same names). The default file (isDefault) gives way to
// a --config file on the command line.
func peerOnly(res kong.Resolver, isDefault bool) kong.Resolver {
	return kong.ResolverFunc(func(ctx *kong.Context, parent *kong.Path, flag *kong.Flag) (any, error) {
		cmd := parent.Node()
		if cmd == nil || cmd.Type != kong.CommandNode || cmd.Name != "peer" || flag.Name == "config" {
			return nil, nil
		}
		if isDefault {
			for _, f := range cmd.Flags {
				if f.Name == "config" {
					if v, ok := ctx.FlagValue(f).(kong.ConfigFlag); ok && v != "" {
						return nil, nil
					}
				}
			}
		}
		return res.Resolve(ctx, parent, flag)
	})
}
