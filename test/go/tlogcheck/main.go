// tlogcheck independently checks what ztmint's transparency/ code produces, with Go's own
// implementations: golang.org/x/mod/sumdb/tlog (RFC 6962 tree hashes, record and tree proofs,
// tiles) and golang.org/x/mod/sumdb/note (C2SP signed notes, Ed25519 verifier keys). It reads one
// JSON case file and exits 1 on the first check that fails, so a test can feed it both honest and
// tampered cases. With -sign it signs a text with a fresh Go key, so the test can also check the
// other direction (our parser accepts Go's notes); with -open it reports which notes of a batch
// Go accepts, for a differential test. Only tests use it; it is no part of ztmint.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusionCase struct {
	Index int64    `json:"index"`
	Size  int64    `json:"size"`
	Root  string   `json:"root"`
	Proof []string `json:"proof"`
}

type consistencyCase struct {
	Old     int64    `json:"old"`
	New     int64    `json:"new"`
	OldRoot string   `json:"oldRoot"`
	NewRoot string   `json:"newRoot"`
	Proof   []string `json:"proof"`
}

type tileCase struct {
	Level int    `json:"level"`
	Index int64  `json:"index"`
	Width int    `json:"width"`
	Path  string `json:"path"`
}

type input struct {
	Origin      string            `json:"origin"`
	VKey        string            `json:"vkey"`
	Leaves      []string          `json:"leaves"`
	Size        int64             `json:"size"`
	Root        string            `json:"root"`
	Checkpoint  string            `json:"checkpoint"`
	Inclusion   []inclusionCase   `json:"inclusion"`
	Consistency []consistencyCase `json:"consistency"`
	TilePaths   []tileCase        `json:"tilePaths"`
	TilesDir    string            `json:"tilesDir"`
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "tlogcheck: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func hashOf(s, what string) tlog.Hash {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		fail("%s is not a base64 SHA-256 hash", what)
	}
	var h tlog.Hash
	copy(h[:], b)
	return h
}

func hashesOf(list []string, what string) []tlog.Hash {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		out[i] = hashOf(s, what)
	}
	return out
}

// memStore holds the stored hashes in Go's own index order.
type memStore []tlog.Hash

func (m *memStore) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(*m)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = (*m)[x]
	}
	return out, nil
}

// dirTiles reads tiles from a directory in the C2SP layout (no height segment in the path).
type dirTiles struct{ dir string }

func c2spPath(t tlog.Tile) string {
	return strings.Replace(t.Path(), fmt.Sprintf("tile/%d/", t.H), "tile/", 1)
}

func (d dirTiles) Height() int { return 8 }
func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := os.ReadFile(filepath.Join(d.dir, filepath.FromSlash(c2spPath(t))))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}
func (d dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// signNote is the other direction: Go makes a key and signs a note text, and prints
// {"vkey","note"} as JSON, so the test can check that our parser and verifier accept Go's output.
func signNote(name, textFile string) {
	text, err := os.ReadFile(textFile)
	if err != nil {
		fail("read text: %v", err)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		fail("generate key: %v", err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		fail("signer: %v", err)
	}
	msg, err := note.Sign(&note.Note{Text: string(text)}, signer)
	if err != nil {
		fail("sign: %v", err)
	}
	out, _ := json.Marshal(map[string]string{"vkey": vkey, "note": string(msg)})
	fmt.Println(string(out))
}

// openNotes reports, for each note of a batch, whether Go's note.Open accepts it under one key:
// the differential test compares that with our parser on mutated notes.
func openNotes(caseFile string) {
	raw, err := os.ReadFile(caseFile)
	if err != nil {
		fail("read batch: %v", err)
	}
	var batch struct {
		VKey  string   `json:"vkey"`
		Notes []string `json:"notes"`
	}
	if err := json.Unmarshal(raw, &batch); err != nil {
		fail("parse batch: %v", err)
	}
	v, err := note.NewVerifier(batch.VKey)
	if err != nil {
		fail("verifier key: %v", err)
	}
	out := make([]bool, len(batch.Notes))
	for i, b64 := range batch.Notes {
		msg, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			fail("note %d is not base64", i)
		}
		_, err = note.Open(msg, note.VerifierList(v))
		out[i] = err == nil
	}
	enc, _ := json.Marshal(out)
	fmt.Println(string(enc))
}

func main() {
	if len(os.Args) == 4 && os.Args[1] == "-sign" {
		signNote(os.Args[2], os.Args[3])
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "-mint" {
		checkMint(os.Args[2])
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "-open" {
		openNotes(os.Args[2])
		return
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tlogcheck CASE.json | tlogcheck -sign NAME TEXTFILE")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail("read case: %v", err)
	}
	var in input
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		fail("parse case: %v", err)
	}
	if int64(len(in.Leaves)) != in.Size || in.Size < 1 {
		fail("case has %d leaves for size %d", len(in.Leaves), in.Size)
	}

	// 1. Rebuild the tree with Go's stored-hash layout and compare the root.
	store := &memStore{}
	leafHashes := make([]tlog.Hash, in.Size)
	for i, l := range in.Leaves {
		data, err := base64.StdEncoding.DecodeString(l)
		if err != nil {
			fail("leaf %d is not base64", i)
		}
		leafHashes[i] = tlog.RecordHash(data)
		hs, err := tlog.StoredHashes(int64(i), data, store)
		if err != nil {
			fail("stored hashes: %v", err)
		}
		*store = append(*store, hs...)
	}
	root, err := tlog.TreeHash(in.Size, store)
	if err != nil {
		fail("tree hash: %v", err)
	}
	if root != hashOf(in.Root, "root") {
		fail("root hash differs from Go's tlog.TreeHash")
	}
	checks := 1

	// 2. Inclusion proofs: Go's CheckRecord accepts them and Go's ProveRecord gives the same hashes.
	for _, c := range in.Inclusion {
		if c.Size < 1 || c.Size > in.Size || c.Index < 0 || c.Index >= c.Size {
			fail("inclusion case out of range: index %d size %d", c.Index, c.Size)
		}
		th, err := tlog.TreeHash(c.Size, store)
		if err != nil || th != hashOf(c.Root, "inclusion root") {
			fail("inclusion root for size %d differs from Go's", c.Size)
		}
		proof := hashesOf(c.Proof, "inclusion proof hash")
		if err := tlog.CheckRecord(proof, c.Size, th, c.Index, leafHashes[c.Index]); err != nil {
			fail("inclusion proof of %d in %d: %v", c.Index, c.Size, err)
		}
		want, err := tlog.ProveRecord(c.Size, c.Index, store)
		if err != nil || len(want) != len(proof) {
			fail("inclusion proof of %d in %d differs from Go's ProveRecord", c.Index, c.Size)
		}
		for i := range want {
			if want[i] != proof[i] {
				fail("inclusion proof of %d in %d differs from Go's ProveRecord at %d", c.Index, c.Size, i)
			}
		}
		checks++
	}

	// 3. Consistency proofs: Go's CheckTree accepts them and Go's ProveTree gives the same hashes.
	for _, c := range in.Consistency {
		if c.Old < 1 || c.Old > c.New || c.New > in.Size {
			fail("consistency case out of range: %d -> %d", c.Old, c.New)
		}
		oldRoot, _ := tlog.TreeHash(c.Old, store)
		newRoot, _ := tlog.TreeHash(c.New, store)
		if oldRoot != hashOf(c.OldRoot, "old root") || newRoot != hashOf(c.NewRoot, "new root") {
			fail("consistency roots %d -> %d differ from Go's", c.Old, c.New)
		}
		proof := hashesOf(c.Proof, "consistency proof hash")
		if err := tlog.CheckTree(proof, c.New, newRoot, c.Old, oldRoot); err != nil {
			fail("consistency proof %d -> %d: %v", c.Old, c.New, err)
		}
		want, err := tlog.ProveTree(c.New, c.Old, store)
		if err != nil || len(want) != len(proof) {
			fail("consistency proof %d -> %d differs from Go's ProveTree", c.Old, c.New)
		}
		for i := range want {
			if want[i] != proof[i] {
				fail("consistency proof %d -> %d differs from Go's ProveTree at %d", c.Old, c.New, i)
			}
		}
		checks++
	}

	// 4. The checkpoint: a signed note that Go's note.Open verifies under the verifier key, whose
	// text is origin, size, root.
	v, err := note.NewVerifier(in.VKey)
	if err != nil {
		fail("verifier key: %v", err)
	}
	n, err := note.Open([]byte(in.Checkpoint), note.VerifierList(v))
	if err != nil {
		fail("checkpoint note: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 || lines[0] != in.Origin || lines[1] != strconv.FormatInt(in.Size, 10) || lines[2] != in.Root {
		fail("checkpoint text is not %q / %d / root", in.Origin, in.Size)
	}
	checks++

	// 5. Tile paths: ours equal Go's Tile.Path() without the height segment, and the set of tiles for
	// the tree equals Go's NewTiles(8, 0, size).
	goTiles := tlog.NewTiles(8, 0, in.Size)
	if len(in.TilePaths) > 0 {
		for _, c := range in.TilePaths {
			t := tlog.Tile{H: 8, L: c.Level, N: c.Index, W: c.Width}
			if c2spPath(t) != c.Path {
				fail("tile path %q, Go says %q", c.Path, c2spPath(t))
			}
			back, err := tlog.ParseTilePath(t.Path())
			if err != nil || back != t {
				fail("Go cannot parse back %q", t.Path())
			}
		}
		if len(goTiles) != len(in.TilePaths) {
			fail("%d tiles for size %d, Go's NewTiles gives %d", len(in.TilePaths), in.Size, len(goTiles))
		}
		for i, t := range goTiles {
			if c2spPath(t) != in.TilePaths[i].Path {
				fail("tile %d is %q, Go's NewTiles gives %q", i, in.TilePaths[i].Path, c2spPath(t))
			}
		}
		checks++
	}

	// 6. Tile files: byte-equal to Go's ReadTileData, authenticated by Go's TileHashReader against
	// the root, and each entry bundle hashes to its level-0 tile.
	if in.TilesDir != "" {
		for _, t := range goTiles {
			want, err := tlog.ReadTileData(t, store)
			if err != nil {
				fail("Go ReadTileData %s: %v", c2spPath(t), err)
			}
			got, err := os.ReadFile(filepath.Join(in.TilesDir, filepath.FromSlash(c2spPath(t))))
			if err != nil || !bytes.Equal(got, want) {
				fail("tile %s differs from Go's ReadTileData", c2spPath(t))
			}
			if t.L == 0 {
				bundlePath := strings.Replace(c2spPath(t), "tile/0/", "tile/entries/", 1)
				bundle, err := os.ReadFile(filepath.Join(in.TilesDir, filepath.FromSlash(bundlePath)))
				if err != nil {
					fail("entry bundle %s: %v", bundlePath, err)
				}
				for j := 0; j < t.W; j++ {
					if len(bundle) < 2 {
						fail("entry bundle %s is short", bundlePath)
					}
					size := int(binary.BigEndian.Uint16(bundle))
					if len(bundle) < 2+size {
						fail("entry bundle %s is short", bundlePath)
					}
					if tlog.RecordHash(bundle[2:2+size]) != leafHashes[t.N*256+int64(j)] {
						fail("entry %d in %s does not hash to its leaf", j, bundlePath)
					}
					bundle = bundle[2+size:]
				}
				if len(bundle) != 0 {
					fail("entry bundle %s has trailing bytes", bundlePath)
				}
			}
		}
		reader := tlog.TileHashReader(tlog.Tree{N: in.Size, Hash: root}, dirTiles{in.TilesDir})
		indexes := make([]int64, 0, in.Size)
		for i := int64(0); i < in.Size; i++ {
			indexes = append(indexes, tlog.StoredHashIndex(0, i))
		}
		got, err := reader.ReadHashes(indexes)
		if err != nil {
			fail("Go's TileHashReader refuses the tiles: %v", err)
		}
		for i := range got {
			if got[i] != leafHashes[i] {
				fail("tile leaf %d differs", i)
			}
		}
		if th, err := tlog.TreeHash(in.Size, reader); err != nil || th != root {
			fail("tree hash through Go's TileHashReader differs: %v", err)
		}
		checks++
	}
	fmt.Printf("tlogcheck: ok: size %d, %d checks\n", in.Size, checks)
}
