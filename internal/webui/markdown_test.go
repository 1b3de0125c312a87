package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// renderWithNode runs static/markdown.js in node on every input and returns the HTML of each.
func renderWithNode(t *testing.T, inputs []string) []string {
	t.Helper()
	if os.Getenv("GOHANDS_SKIP_NODE") == "1" {
		t.Skip("GOHANDS_SKIP_NODE=1")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("the Markdown renderer is tested with node, which is not installed (apt-get install nodejs, or set GOHANDS_SKIP_NODE=1): %v", err)
	}
	module, err := filepath.Abs(filepath.Join("static", "markdown.js"))
	if err != nil {
		t.Fatal(err)
	}
	script := `import { renderMarkdown } from ` + jsString("file://"+filepath.ToSlash(module)) + `;
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => console.log(JSON.stringify(JSON.parse(input).map(renderMarkdown))));`
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--input-type=module", "-e", script)
	in, _ := json.Marshal(inputs)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var html []string
	if err := json.Unmarshal(out, &html); err != nil || len(html) != len(inputs) {
		t.Fatalf("node printed %q: %v", out, err)
	}
	return html
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestMarkdown(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text", "<p>plain text</p>"},
		{"**bold** and *it* and _it_ but snake_case_name", "<p><strong>bold</strong> and <em>it</em> and <em>it</em> but snake_case_name</p>"},
		{"line one\nline two\n\nnext", "<p>line one<br>line two</p>\n<p>next</p>"},
		{"use `a < b && c`", "<p>use <code>a &lt; b &amp;&amp; c</code></p>"},
		{"``a ` b``", "<p><code>a ` b</code></p>"},
		{"```go\nif a < b {\n}\n```", "<pre><code class=\"language-go\">if a &lt; b {\n}</code></pre>"},
		{"```\nnever closed *x*", "<pre><code>never closed *x*</code></pre>"},
		{"# Title", "<h3>Title</h3>"},
		{"- a\n- b *c*", "<ul>\n<li>a</li>\n<li>b <em>c</em></li>\n</ul>"},
		{"3. x\n4. y", "<ol start=\"3\">\n<li>x</li>\n<li>y</li>\n</ol>"},
		{"- a\n  - b", "<ul>\n<li>a\n<ul>\n<li>b</li>\n</ul></li>\n</ul>"},
		{"> quoted", "<blockquote><p>quoted</p></blockquote>"},
		{"---", "<hr>"},
		{"[docs](https://go.dev/doc)", `<p><a href="https://go.dev/doc" rel="noopener noreferrer nofollow" target="_blank">docs</a></p>`},
		{"see https://go.dev/x.", `<p>see <a href="https://go.dev/x" rel="noopener noreferrer nofollow" target="_blank">https://go.dev/x</a>.</p>`},
		{"[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"},
		{"<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"},
		{`a "quote" & 'apostrophe'`, "<p>a &quot;quote&quot; &amp; &#39;apostrophe&#39;</p>"},
		{"nul\x00here", "<p>nul\uFFFDhere</p>"},
	}
	inputs := make([]string, len(cases))
	for i, c := range cases {
		inputs[i] = c.in
	}
	got := renderWithNode(t, inputs)
	for i, c := range cases {
		if got[i] != c.want {
			t.Errorf("renderMarkdown(%q)\n got %q\nwant %q", c.in, got[i], c.want)
		}
	}
}

// TestMarkdownIsSafe renders hostile and random inputs and checks that the only tags are the
// renderer's own, that attributes are the ones it writes, and that links are http(s).
func TestMarkdownIsSafe(t *testing.T) {
	pieces := []string{"<", ">", "\"", "'", "&", "`", "``", "```", "*", "**", "_", "__", "[", "]", "(", ")",
		"javascript:", "https://x.y/", "http://a.b/c?d=1&e=2", "<img src=x onerror=alert(1)>", "<script>",
		"</p>", "\n", "\n\n", "- ", "1. ", "> ", "# ", "  ", "\x00", "\x00" + "0" + "\x00", "data:text/html,",
		"\" onmouseover=\"", "a", "é", "<a href=\"javascript:x\">"}
	inputs := []string{
		"[a](https://x.y/\" onclick=\"alert(1))",
		"[a](https://x.y/)\" onclick=\"x",
		"**[a](https://x.y/)**",
		"`<b>` **`<i>`**",
		"https://x.y/<script>",
		"<https://x.y/\"a>",
		strings.Repeat(">", 5000) + " deep",
		strings.Repeat("- ", 2000) + "deep list",
		strings.Repeat("*", 3000),
	}
	seed := uint32(7)
	next := func() int { seed = seed*1664525 + 1013904223; return int(seed >> 8) }
	for range 2000 {
		var b strings.Builder
		for n := next()%20 + 1; n > 0; n-- {
			b.WriteString(pieces[next()%len(pieces)])
		}
		inputs = append(inputs, b.String())
	}
	tag := regexp.MustCompile(`<(/?)([a-z0-9]+)((?:\s[^>]*)?)>`)
	attr := regexp.MustCompile(`\s([a-z-]+)="([^"]*)"`)
	allowed := map[string]bool{"p": true, "br": true, "pre": true, "code": true, "strong": true, "em": true, "a": true,
		"ul": true, "ol": true, "li": true, "h3": true, "h4": true, "h5": true, "h6": true, "blockquote": true, "hr": true}
	for i, html := range renderWithNode(t, inputs) {
		rest := tag.ReplaceAllStringFunc(html, func(m string) string {
			parts := tag.FindStringSubmatch(m)
			if !allowed[parts[2]] {
				t.Errorf("input %q produced tag %q", inputs[i], m)
			}
			attrs := attr.ReplaceAllStringFunc(parts[3], func(a string) string {
				kv := attr.FindStringSubmatch(a)
				switch kv[1] {
				case "href":
					if !strings.HasPrefix(kv[2], "https://") && !strings.HasPrefix(kv[2], "http://") {
						t.Errorf("input %q produced link %q", inputs[i], kv[2])
					}
				case "rel", "target", "class", "start":
				default:
					t.Errorf("input %q produced attribute %q", inputs[i], a)
				}
				return ""
			})
			if strings.TrimSpace(attrs) != "" {
				t.Errorf("input %q produced a malformed tag %q", inputs[i], m)
			}
			return ""
		})
		if strings.ContainsAny(rest, "<>") {
			t.Errorf("input %q left a raw < or > in %q", inputs[i], html)
		}
		if strings.Contains(rest, "\x00") {
			t.Errorf("input %q left a placeholder in %q", inputs[i], html)
		}
	}
}
