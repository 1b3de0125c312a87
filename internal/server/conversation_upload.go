package server

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Upload limits. core.file_uploads_max_file_size_mb bounds each file (OpenHands declares the key
// but does not enforce it); a request body may hold at most uploadRequestFiles files of that size.
// With no per-file limit configured, a request body is bounded by defaultUploadLimit.
const (
	defaultUploadLimit = 100 << 20
	uploadRequestFiles = 10
	// multipartSlack covers the multipart headers and boundaries around the files.
	multipartSlack = 1 << 20
)

// uploadLimits returns the per-file limit (0: none) and the request body limit.
func (s *Server) uploadLimits() (perFile, total int64) {
	mb := int64(s.cfg.Core.FileUploadsMaxFileSizeMB)
	if mb <= 0 {
		return 0, defaultUploadLimit
	}
	perFile = mb << 20
	return perFile, perFile*uploadRequestFiles + multipartSlack
}

// extensionAllowed applies file_uploads_restrict_file_types and file_uploads_allowed_extensions.
func (s *Server) extensionAllowed(name string) bool {
	core := s.cfg.Core
	if !core.FileUploadsRestrictFileTypes {
		return true
	}
	ext := strings.ToLower(path.Ext(name))
	for _, a := range core.FileUploadsAllowedExtensions {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == ".*" || a == "*" || a == ext {
			return true
		}
	}
	return false
}

// safeUploadName reduces a client's file name to a relative slash path without "." or ".."
// segments (a Windows-style name's backslashes count as separators). "" when nothing is left.
func safeUploadName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	var parts []string
	for _, p := range strings.Split(name, "/") {
		if p == "" || p == "." || p == ".." || strings.ContainsRune(p, 0) {
			continue
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "/")
}

type skippedFile struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// spooled is one received file waiting in a temporary zip to be extracted into the workspace.
type spooled struct {
	name string // safe relative path
	zip  string // host path of a zip holding the file under name
}

// handleUploadFiles writes the multipart parts named "files" into the workspace, each at its
// (sanitised) client file name. The whole body is received first, each file into a temporary zip
// holding it under its relative name; the zips are then extracted into the workspace by the
// sandbox, which keeps binary files intact (OpenHands decodes them as UTF-8) and creates
// directories as needed.
func (s *Server) handleUploadFiles(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.manager(w) == nil || s.storedConversation(w, id) == nil {
		return
	}
	perFile, total := s.uploadLimits()
	tooLarge := func() {
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: fmt.Sprintf("Upload larger than %d MB", total>>20)})
	}
	if r.ContentLength > total {
		tooLarge()
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, total)
	mr, err := r.MultipartReader()
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "Expected a multipart/form-data body: " + err.Error()})
		return
	}
	dir, err := os.MkdirTemp("", "gohands-upload-*")
	if err != nil {
		s.log.Error("upload files", "conversation_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Error receiving files"})
		return
	}
	defer os.RemoveAll(dir)

	var files []spooled
	skipped := []skippedFile{}
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				tooLarge()
				return
			}
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "Malformed multipart body: " + err.Error()})
			return
		}
		raw := partFileName(part)
		if part.FormName() != "files" || raw == "" {
			if _, err := io.Copy(io.Discard, part); err != nil {
				tooLarge()
				return
			}
			continue
		}
		name := safeUploadName(raw)
		reason := ""
		switch {
		case name == "":
			reason = "The file name is empty once reduced to a path inside the workspace"
		case !s.extensionAllowed(name):
			reason = "File type not allowed: " + path.Ext(name)
		}
		if reason != "" {
			skipped = append(skipped, skippedFile{Name: raw, Reason: reason})
			if _, err := io.Copy(io.Discard, part); err != nil {
				tooLarge()
				return
			}
			continue
		}
		zipPath := filepath.Join(dir, fmt.Sprintf("upload-%d.zip", n))
		err = spoolZip(zipPath, name, part, perFile)
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			tooLarge()
			return
		case errors.Is(err, errFileTooLarge):
			skipped = append(skipped, skippedFile{Name: raw, Reason: fmt.Sprintf("File larger than the limit of %d MB", perFile>>20)})
			if _, err := io.Copy(io.Discard, part); err != nil {
				tooLarge()
				return
			}
			continue
		case err != nil:
			skipped = append(skipped, skippedFile{Name: raw, Reason: "Could not receive the file: " + err.Error()})
			continue
		}
		files = append(files, spooled{name: name, zip: zipPath})
	}

	a := s.attach(w, r, id, "Error uploading files")
	if a == nil {
		return
	}
	defer s.opts.Conversations.Detach(a)
	ws := workspaceDir(a)
	uploaded := []string{}
	for _, f := range files {
		if err := a.Runtime.CopyTo(r.Context(), f.zip, ws, false); err != nil {
			s.log.Warn("upload file", "conversation_id", id, "file", f.name, "err", err)
			skipped = append(skipped, skippedFile{Name: f.name, Reason: err.Error()})
			continue
		}
		uploaded = append(uploaded, path.Join(ws, f.name))
	}
	writeJSON(w, http.StatusOK, struct {
		UploadedFiles []string      `json:"uploaded_files"`
		SkippedFiles  []skippedFile `json:"skipped_files"`
	}{uploaded, skipped})
}

// partFileName is the part's file name as the client sent it. multipart.Part.FileName keeps only
// the base name; we keep the directories (a folder upload sends "dir/file") and sanitise them
// ourselves.
func partFileName(p *multipart.Part) string {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return p.FileName()
	}
	return params["filename"]
}

var errFileTooLarge = errors.New("file too large")

// spoolZip writes a zip at zipPath holding r's content under name; errFileTooLarge when r holds
// more than limit bytes (limit 0: no limit).
func spoolZip(zipPath, name string, r io.Reader, limit int64) error {
	f, err := os.OpenFile(zipPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	hdr := &zip.FileHeader{Name: name, Method: zip.Deflate}
	hdr.SetMode(0o644)
	dst, err := zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	src := r
	if limit > 0 {
		src = io.LimitReader(r, limit+1)
	}
	n, err := io.Copy(dst, src)
	if err != nil {
		return err
	}
	if limit > 0 && n > limit {
		return errFileTooLarge
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}
