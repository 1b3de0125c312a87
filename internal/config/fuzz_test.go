package config

import (
	"os"
	"testing"
)

// FuzzLoad feeds arbitrary documents to the loader: it must return a config or
// an error, never panic, and a loaded config must render.
func FuzzLoad(f *testing.F) {
	full, err := os.ReadFile("testdata/full.toml")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(full),
		layered,
		"",
		"[core]\nmax_iterations = \"ten\"\n",
		"[llm.a]\n[llm.a.b]\nx = 1\n",
		"[[mcp.stdio_servers]]\nname = 1\n[[mcp.stdio_servers]]\nargs = [[1]]\n",
		"a = 1\na = 2\n",
		"[condenser]\ntype = \"pipeline\"\ncondensers = [{type = \"pipeline\", condensers = [{type = \"x\"}]}]\n",
		"[agent]\ncondenser = 3\n[agent.X]\ncondenser = { type = \"llm\", max_size = 1 }\n",
		"[sandbox]\nvolumes = \"~:/workspace:ro\"\n",
		"x = {y = [1, {z = 2}]}\n[[t]]\n[[t.u]]\n[t.u.v]\n",
	} {
		f.Add([]byte(seed))
	}
	opts := LoadOptions{Env: env(map[string]string{"HOME": "/home/fuzz"})}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, _, err := load(opts, "config.toml", data)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("load returned config %v and error %v", cfg != nil, err)
		}
		if cfg != nil {
			_ = cfg.Dump()
		}
	})
}
