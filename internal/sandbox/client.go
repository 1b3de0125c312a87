package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gohands/gohands/internal/events"
)

// Client speaks to an action server over HTTP, on a unix socket or TCP.
type Client struct {
	base   string // "http://sandbox" for unix sockets
	apiKey string
	http   *http.Client
}

// NewUnixClient returns a client for the action server listening on socketPath.
func NewUnixClient(socketPath, apiKey string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socketPath)
		},
		MaxIdleConns:        4,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
	}
	return &Client{base: "http://sandbox", apiKey: apiKey, http: &http.Client{Transport: tr}}
}

// NewTCPClient returns a client for the action server at baseURL (http://host:port).
func NewTCPClient(baseURL, apiKey string) *Client {
	return &Client{base: strings.TrimRight(baseURL, "/"), apiKey: apiKey, http: &http.Client{}}
}

// CloseIdle closes idle connections.
func (c *Client) CloseIdle() { c.http.CloseIdleConnections() }

// StatusError is a non-2xx answer of the action server.
type StatusError struct {
	Status int
	Detail string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("action server answered %d: %s", e.Status, e.Detail)
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.apiKey != "" {
		req.Header.Set(SessionKeyHeader, c.apiKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var e struct {
			Detail string `json:"detail"`
		}
		if json.Unmarshal(data, &e) != nil || e.Detail == "" {
			e.Detail = strings.TrimSpace(string(data))
		}
		return nil, &StatusError{Status: resp.StatusCode, Detail: e.Detail}
	}
	return resp, nil
}

// Alive asks the server whether it is up.
func (c *Client) Alive(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := c.do(ctx, http.MethodGet, "/alive", nil, "")
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// WaitReady polls Alive until it answers or ctx ends; it returns the last error on timeout.
func (c *Client) WaitReady(ctx context.Context, interval time.Duration) error {
	var last error
	for {
		if last = c.Alive(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("action server did not answer: %w (last error: %v)", ctx.Err(), last)
		case <-time.After(interval):
		}
	}
}

// Execute sends one action and returns its observation. The HTTP deadline is timeout plus a
// margin, as OpenHands' client does.
func (c *Client) Execute(ctx context.Context, action *events.Event, timeout time.Duration) (*events.Event, error) {
	raw, err := events.Marshal(action)
	if err != nil {
		return nil, err
	}
	body := make([]byte, 0, len(raw)+12)
	body = append(append(append(body, `{"action":`...), raw...), '}')
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout+5*time.Second)
		defer cancel()
	}
	resp, err := c.do(ctx, http.MethodPost, "/execute_action", bytes.NewReader(body), "application/json")
	if err != nil {
		return nil, fmt.Errorf("execute %s: %w", action.Type(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("execute %s: read answer: %w", action.Type(), err)
	}
	obs, err := events.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("execute %s: %w", action.Type(), err)
	}
	if obs.Observation == nil {
		return nil, fmt.Errorf("execute %s: the action server answered with an action", action.Type())
	}
	obs.ID = -1
	return obs, nil
}

// ListFiles lists one directory level.
func (c *Client) ListFiles(ctx context.Context, path string) ([]string, error) {
	body, _ := json.Marshal(map[string]string{"path": path})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := c.do(ctx, http.MethodPost, "/list_files", bytes.NewReader(body), "application/json")
	if err != nil {
		return nil, fmt.Errorf("list files %q: %w", path, err)
	}
	defer resp.Body.Close()
	var names []string
	if err := json.NewDecoder(resp.Body).Decode(&names); err != nil {
		return nil, fmt.Errorf("list files %q: %w", path, err)
	}
	return names, nil
}

// Upload streams r to the sandbox as destination/filename, or extracts it there when it is a zip
// (recursive, or a name ending in .zip).
func (c *Client) Upload(ctx context.Context, destination, filename string, r io.Reader, recursive bool) error {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		part, err := mw.CreateFormFile("file", filename)
		if err == nil {
			_, err = io.Copy(part, r)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	q := url.Values{"destination": {destination}, "recursive": {fmt.Sprint(recursive)}}
	resp, err := c.do(ctx, http.MethodPost, "/upload_file?"+q.Encode(), pr, mw.FormDataContentType())
	pr.CloseWithError(errors.New("upload finished")) // unblock the writer if the request failed early
	if err != nil {
		return fmt.Errorf("upload %s to %s: %w", filename, destination, err)
	}
	resp.Body.Close()
	return nil
}

// Download writes a zip of path to w.
func (c *Client) Download(ctx context.Context, path string, w io.Writer) error {
	resp, err := c.do(ctx, http.MethodGet, "/download_files?"+url.Values{"path": {path}}.Encode(), nil, "")
	if err != nil {
		return fmt.Errorf("download %s: %w", path, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("download %s: %w", path, err)
	}
	return nil
}
