package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/dartsync/dartsync/peer/bandwidth"
	"github.com/dartsync/dartsync/peer/localapi"
)

// limitsCmd shows or changes the bandwidth limits of the running peer of a
// folder (`dartsync limits`), through its local control API (/v1/limits,
// docs/API.md). The change lasts until the peer stops: its flags (or
// config file) decide the limits at the next start.
type limitsCmd struct {
	Dir            string `name:"dir" required:"" type:"path" placeholder:"DIR" help:"A folder the peer syncs."`
	State          string `name:"state" type:"path" help:"The peer's state directory, if the folder's marker cannot say (a folder not mounted)."`
	MaxSend        string `name:"max-send" placeholder:"RATE" help:"New limit of piece bytes sent per second (10MB/s, 80Mbit/s, 512KiB/s; 0: none)."`
	MaxRecv        string `name:"max-recv" placeholder:"RATE" help:"New limit of piece bytes received per second (0: none)."`
	LANUnlimited   bool   `name:"lan-unlimited" xor:"lan" help:"From now on, no limit for peers on this device's own subnets."`
	NoLANUnlimited bool   `name:"no-lan-unlimited" xor:"lan" help:"From now on, limit peers on this device's own subnets too."`
	JSON           bool   `name:"json" help:"Print the limits as one JSON object (the API's /v1/limits)."`

	stdout io.Writer // nil means os.Stdout; set by tests
}

func (c *limitsCmd) Run(ctx context.Context, log *slog.Logger) error {
	ch, err := c.change()
	if err != nil {
		return withExitCode(2, err)
	}
	control, err := controlOf(c.Dir, c.State)
	if err != nil {
		return notRunningHint(err, c.Dir)
	}
	cl := localapi.NewClient(control)
	defer cl.Close()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var l localapi.Limits
	if ch == (localapi.LimitsChange{}) {
		l, err = cl.Limits(rctx)
	} else {
		l, err = cl.SetLimits(rctx, ch)
	}
	if err != nil {
		if errors.Is(err, localapi.ErrRefused) {
			return withExitCode(2, err)
		}
		return notRunningHint(err, c.Dir)
	}
	out := c.stdout
	if out == nil {
		out = os.Stdout
	}
	if c.JSON {
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "%s\n", b)
		return err
	}
	return renderLimits(out, l)
}

// change is the change the flags ask for (empty: none, just show). Rates
// are checked here too, so a typo is refused before the peer is asked.
func (c *limitsCmd) change() (localapi.LimitsChange, error) {
	var ch localapi.LimitsChange
	for _, f := range []struct {
		flag, v string
		to      **string
	}{{"--max-send", c.MaxSend, &ch.MaxSend}, {"--max-recv", c.MaxRecv, &ch.MaxRecv}} {
		if f.v == "" {
			continue
		}
		if _, err := bandwidth.ParseRate(f.v); err != nil {
			return ch, fmt.Errorf("%s: %w", f.flag, err)
		}
		v := f.v
		*f.to = &v
	}
	if c.LANUnlimited || c.NoLANUnlimited {
		v := c.LANUnlimited
		ch.LANUnlimited = &v
	}
	return ch, nil
}

// renderLimits prints the limits for people.
func renderLimits(w io.Writer, l localapi.Limits) error {
	lan := "limited like any peer"
	if l.LANUnlimited {
		lan = "unlimited"
	}
	_, err := fmt.Fprintf(w, "send:            %s\nreceive:         %s\nlocal subnets:   %s\nbytes limited:   %d sent, %d received\n",
		rateText(l.MaxSend), rateText(l.MaxRecv), lan, l.SentLimited, l.ReceivedLimited)
	return err
}

// rateText writes a rate in bytes/s for people ("unlimited", "5MB/s
// (4.768MiB/s)").
func rateText(bps int64) string {
	if bps == 0 {
		return "unlimited"
	}
	r := bandwidth.Rate(bps)
	return fmt.Sprintf("%s (%d bytes/s)", r, bps)
}

// limits writes the status line of the bandwidth limits, when there are
// any.
func (r *renderer) limits(l *localapi.Limits) {
	if l == nil || l.MaxSend == 0 && l.MaxRecv == 0 {
		return
	}
	lan := ""
	if l.LANUnlimited {
		lan = ", local subnets unlimited"
	}
	r.linef("limits  send %s, receive %s%s", limitText(l.MaxSend), limitText(l.MaxRecv), lan)
}

// limitText is a rate in bytes/s, short ("unlimited", "4.768MiB/s").
func limitText(bps int64) string {
	if bps == 0 {
		return "unlimited"
	}
	return bandwidth.Rate(bps).String()
}
