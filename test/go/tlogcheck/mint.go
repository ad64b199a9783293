package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// mintCase is what one mint answer lets a workflow check offline, plus where the log is served.
type mintCase struct {
	VKey       string   `json:"vkey"`
	Origin     string   `json:"origin"`
	Checkpoint string   `json:"checkpoint"`
	Index      int64    `json:"index"`
	Entry      string   `json:"entry"`
	Proof      []string `json:"proof"`
	TilesURL   string   `json:"tilesUrl"`
}

// httpTiles reads tiles from a running coordinator's /tlog/ (C2SP layout, no height segment).
type httpTiles struct{ base string }

func (h httpTiles) Height() int { return 8 }
func (h httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	client := http.Client{Timeout: 30 * time.Second}
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		res, err := client.Get(h.base + c2spPath(t))
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 {
			return nil, fmt.Errorf("GET %s: %d %v", c2spPath(t), res.StatusCode, err)
		}
		out[i] = b
	}
	return out, nil
}
func (h httpTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// checkMint: Go's note.Open verifies the mint answer's checkpoint under the published verifier
// key, Go's tlog.CheckRecord verifies the inclusion proof of the logged record, and with tilesUrl
// Go's TileHashReader (tiles authenticated against the checkpoint's root) gives the same proof.
func checkMint(caseFile string) {
	raw, err := os.ReadFile(caseFile)
	if err != nil {
		fail("read mint case: %v", err)
	}
	var c mintCase
	if err := json.Unmarshal(raw, &c); err != nil {
		fail("parse mint case: %v", err)
	}
	v, err := note.NewVerifier(c.VKey)
	if err != nil {
		fail("verifier key: %v", err)
	}
	n, err := note.Open([]byte(c.Checkpoint), note.VerifierList(v))
	if err != nil {
		fail("checkpoint note: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) != 3 || lines[0] != c.Origin {
		fail("checkpoint text is not origin %q, size, root", c.Origin)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || c.Index < 0 || c.Index >= size {
		fail("record %d is not in a tree of size %q", c.Index, lines[1])
	}
	root := hashOf(lines[2], "checkpoint root")
	entry, err := base64.StdEncoding.DecodeString(c.Entry)
	if err != nil {
		fail("entry is not base64")
	}
	proof := hashesOf(c.Proof, "inclusion proof hash")
	if err := tlog.CheckRecord(proof, size, root, c.Index, tlog.RecordHash(entry)); err != nil {
		fail("inclusion proof of record %d in %d: %v", c.Index, size, err)
	}
	if c.TilesURL != "" {
		reader := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, httpTiles{c.TilesURL})
		want, err := tlog.ProveRecord(size, c.Index, reader)
		if err != nil || len(want) != len(proof) {
			fail("Go's proof from the served tiles differs: %v", err)
		}
		for i := range want {
			if want[i] != proof[i] {
				fail("Go's proof from the served tiles differs at %d", i)
			}
		}
	}
	fmt.Println("ok")
}
