package actionserver

import (
	"reflect"
	"strings"
	"testing"
)

func TestBashSplitCommands(t *testing.T) {
	seven := []string{
		"ls -l",
		"echo -e \"hello\nworld\"",
		"echo -e \"hello it's me\"",
		"echo \\\n    -e 'hello' \\\n    world",
		"echo -e 'hello\\nworld\\nare\\nyou\\nthere?'",
		"echo -e 'hello\nworld\nare\nyou\n\nthere?'",
		"echo -e 'hello\nworld \"'",
	}
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "  \n ", []string{""}},
		{"one", "ls -l", []string{"ls -l"}},
		{"two lines", "ls\npwd", []string{"ls", "pwd"}},
		{"blank lines between", "ls\n\n\npwd\n", []string{"ls", "pwd"}},
		{"chain", "echo a && echo b; echo c || true | cat", []string{"echo a && echo b; echo c || true | cat"}},
		{"and at line end", "mkdir -p x &&\ncd x", []string{"mkdir -p x &&\ncd x"}},
		{"pipe at line end", "ls |\nwc -l", []string{"ls |\nwc -l"}},
		{"background then newline", "sleep 1 &\necho hi", []string{"sleep 1 &", "echo hi"}},
		{"redirect ampersand", "ls &> out\ndone_file", []string{"ls &> out", "done_file"}},
		{"backslash continuation", "echo \\\n -e \"foo\"", []string{"echo \\\n -e \"foo\""}},
		{"newline in double quotes", "echo -e \"hello\nworld\"", []string{"echo -e \"hello\nworld\""}},
		{"newline in single quotes", "echo 'a\n\nb'", []string{"echo 'a\n\nb'"}},
		{"ansi c quote", "echo $'it\\'s'\nls", []string{"echo $'it\\'s'", "ls"}},
		{"heredoc", "cat << EOF\nline 1\nline 2\nEOF", []string{"cat << EOF\nline 1\nline 2\nEOF"}},
		{"heredoc then command", "cat <<'EOF' > f\nls\nEOF\necho done", []string{"cat <<'EOF' > f\nls\nEOF", "echo done"}},
		{"heredoc strip tabs", "cat <<-END\n\tx\n\tEND", []string{"cat <<-END\n\tx\n\tEND"}},
		{"two heredocs one line", "cat <<A <<B\na\nA\nb\nB", []string{"cat <<A <<B\na\nA\nb\nB"}},
		{"herestring", "cat <<< hi\nls", []string{"cat <<< hi", "ls"}},
		{"for loop nest", "mkdir -p _modules && \\\nfor month in {01..04}; do\n    for day in {01..05}; do\n        touch \"_modules/2024-${month}-${day}-sample.md\"\n    done\ndone && echo \"created files\"\n",
			[]string{"mkdir -p _modules && \\\nfor month in {01..04}; do\n    for day in {01..05}; do\n        touch \"_modules/2024-${month}-${day}-sample.md\"\n    done\ndone && echo \"created files\""}},
		{"loop with sed", "for file in _modules/*.md; do\n    new_date=$(echo $file | sed -E 's/2024-(01|02|03|04)-/2024-/;s/2024-01/2024-08/')\n    mv \"$file\" \"$new_date\"\ndone && echo \"success\"\n",
			[]string{"for file in _modules/*.md; do\n    new_date=$(echo $file | sed -E 's/2024-(01|02|03|04)-/2024-/;s/2024-01/2024-08/')\n    mv \"$file\" \"$new_date\"\ndone && echo \"success\""}},
		{"if block", "if true; then\n  echo yes\nelse\n  echo no\nfi\necho after", []string{"if true; then\n  echo yes\nelse\n  echo no\nfi", "echo after"}},
		{"while one line", "count=0; while [ $count -lt 3 ]; do count=$((count+1)); done; echo $count;", []string{"count=0; while [ $count -lt 3 ]; do count=$((count+1)); done; echo $count;"}},
		{"case", "case $x in\n  a) echo a;;\n  (b|c) echo bc;;\nesac\nls", []string{"case $x in\n  a) echo a;;\n  (b|c) echo bc;;\nesac", "ls"}},
		{"function", "f() {\n  echo in f\n}\nf", []string{"f() {\n  echo in f\n}", "f"}},
		{"function keyword", "function g {\n  echo g\n}", []string{"function g {\n  echo g\n}"}},
		{"subshell", "(\n cd /tmp\n ls\n)", []string{"(\n cd /tmp\n ls\n)"}},
		{"array", "a=(1\n2\n3)\necho ${a[@]}", []string{"a=(1\n2\n3)", "echo ${a[@]}"}},
		{"command substitution lines", "x=$(\necho a\necho b\n)", []string{"x=$(\necho a\necho b\n)"}},
		{"arith command", "((i=1+2))\necho $i", []string{"((i=1+2))", "echo $i"}},
		{"c for", "for ((i=0; i<3; i++)); do\n echo $i\ndone", []string{"for ((i=0; i<3; i++)); do\n echo $i\ndone"}},
		{"keywords as arguments", "echo done fi esac }\nls", []string{"echo done fi esac }", "ls"}},
		{"find exec", "find . -type f -exec grep -l x {} \\;", []string{"find . -type f -exec grep -l x {} \\;"}},
		{"trailing comment", "ls\n# just a note", []string{"ls\n# just a note"}},
		{"comment between", "ls\n# note\npwd", []string{"ls\n# note", "pwd"}},
		{"leading comment", "# note\nls", []string{"# note", "ls"}},
		{"comment only", "# note", []string{"# note"}},
		{"hash inside word", "echo a#b\nls", []string{"echo a#b", "ls"}},
		{"unterminated quote", "echo 'abc\nls", []string{"echo 'abc\nls"}},
		{"unbalanced done", "done\nls", []string{"done\nls"}},
		{"seven", strings.Join(seven, "\n"), seven},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bashSplitCommands(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("bashSplitCommands(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestBashMultipleCommandsError(t *testing.T) {
	got := bashMultipleCommandsError([]string{"ls", "pwd"})
	want := "ERROR: Cannot execute multiple commands at once.\n" +
		"Please run each command separately OR chain them into a single command via && or ;\n" +
		"Provided commands:\n(1) ls\n(2) pwd"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
