// Package webui is gohands' built-in web interface: plain HTML, CSS and JavaScript embedded in the
// binary and served at / when no OpenHands frontend directory is given. It talks to the same REST
// and Socket.IO API as the OpenHands web UI and needs no build step, so `make run` on a fresh clone
// serves a usable page.
//
// The files live in static/: index.html loads app.js, an ES module that imports the rest
// (api.js, dom.js, socket.js, markdown.js, events.js, the views). Nothing third-party is included:
// socket.js is a small Socket.IO v5 client for the subset the server speaks (websocket transport,
// default namespace, JSON events) and markdown.js a small renderer that escapes before it formats.
package webui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
	"slices"
	"strings"
)

//go:embed static
var static embed.FS

// FS returns the page as the server serves it: index.html at the root and every other file under
// assets/<content hash>/, with index.html's references rewritten to match. That is the layout of a
// built OpenHands frontend, so the server treats both alike: what is under /assets is cached for
// good (the hash changes with the content) and is not counted by the rate limiter, which a page
// loading a dozen modules, twice on a reload, would otherwise run into.
func FS() fs.FS {
	names, err := fs.Glob(static, "static/*")
	if err != nil {
		panic(err) // the pattern is valid
	}
	files := map[string][]byte{}
	sum := sha256.New()
	for _, name := range names {
		data, err := static.ReadFile(name)
		if err != nil {
			panic(err) // embedded files are always readable
		}
		base := path.Base(name)
		files[base] = data
		sum.Write([]byte(base + "\x00"))
		sum.Write(data)
		sum.Write([]byte{0})
	}
	dir := "assets/" + hex.EncodeToString(sum.Sum(nil))[:12]
	page := newMemFS()
	index := string(files["index.html"])
	for _, name := range sortedKeys(files) {
		if name == "index.html" {
			continue
		}
		page.add(dir+"/"+name, files[name])
		index = strings.ReplaceAll(index, `"/`+name+`"`, `"/`+dir+`/`+name+`"`)
	}
	page.add("index.html", []byte(index))
	return page
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
