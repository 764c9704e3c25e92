package e2e

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkMaxSend: real processes; a sender under --max-send 5MB/s and
// one or two receivers of a 50 MB file each (two receivers share the
// sender's limit), or an unlimited sender and one receiver under
// --max-recv 5MB/s; over QUIC, and over TCP (--transport tcp). It reports each receiver's average rate from the
// write to its complete copy (MB/s; one receiver: about 5, two: about 2.5
// each) and the total. b.N is ignored beyond the first run.
func BenchmarkMaxSend(b *testing.B) {
	for _, tc := range []struct {
		name                     string
		receivers                int
		senderArgs, receiverArgs []string
	}{
		{"send_1receiver", 1, []string{"--max-send", "5MB/s"}, nil},
		{"send_2receivers", 2, []string{"--max-send", "5MB/s"}, nil},
		{"recv_1receiver", 1, nil, []string{"--max-recv", "5MB/s"}},
		{"send_1receiver_tcp", 1, []string{"--max-send", "5MB/s", "--transport", "tcp"}, []string{"--transport", "tcp"}},
		{"recv_1receiver_tcp", 1, []string{"--transport", "tcp"}, []string{"--max-recv", "5MB/s", "--transport", "tcp"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const size = 50_000_000
			receivers := tc.receivers
			c := newCluster(b, 0)
			p1 := c.addPeer("sender", tc.senderArgs...)
			var rs []*peerProc
			for i := range receivers {
				rs = append(rs, c.addPeer(fmt.Sprintf("receiver%d", i+1), tc.receiverArgs...))
			}
			data := randomBytes(b, size)
			start := time.Now()
			writeFile(b, p1.dir, "big.bin", data, 0o644)
			took := make([]time.Duration, receivers)
			var wg sync.WaitGroup
			for i, r := range rs {
				wg.Go(func() {
					for !fileComplete(r.dir, "big.bin", data) && time.Since(start) < 5*time.Minute {
						time.Sleep(100 * time.Millisecond)
					}
					took[i] = time.Since(start)
				})
			}
			wg.Wait()
			total := 0.0
			for i, d := range took {
				rate := size / d.Seconds() / 1e6
				total += rate
				b.ReportMetric(rate, fmt.Sprintf("MB/s_receiver%d", i+1))
			}
			b.ReportMetric(total, "MB/s_total")
			c.stopAll()
		})
	}
}
