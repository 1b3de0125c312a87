package config

// MCP is the [mcp] section: the MCP servers whose tools agents may use.
type MCP struct {
	// SSEServers are written as a URL string or {url, api_key}.
	SSEServers   []MCPServer      `toml:"sse_servers" json:"sse_servers"`
	StdioServers []MCPStdioServer `toml:"stdio_servers" json:"stdio_servers"`
	// SHTTPServers are streamable-HTTP servers, written like SSEServers.
	SHTTPServers []MCPServer `toml:"shttp_servers" json:"shttp_servers"`
}

// MCPServer is a remote MCP server reached over HTTP.
type MCPServer struct {
	URL    string `toml:"url" json:"url"`
	APIKey Secret `toml:"api_key" json:"api_key"`
}

// MCPStdioServer is an MCP server started as a process (inside the sandbox).
type MCPStdioServer struct {
	Name    string    `toml:"name" json:"name"`
	Command string    `toml:"command" json:"command"`
	Args    []string  `toml:"args" json:"args"`
	Env     SecretMap `toml:"env" json:"env"`
}
