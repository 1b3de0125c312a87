package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// Request validation for the conversation routes. OpenHands validates bodies and queries with
// pydantic, and the UI (and API clients written against OpenHands) see FastAPI's 422 shape:
// {"detail":[{"type","loc","msg","input"[,"ctx"]}]}. We produce the same shape for the checks the
// conversation routes make; malformed JSON is a 400 {"detail":"Invalid JSON: …"} instead of
// FastAPI's 422 json_invalid.

// validationIssue is one entry of a FastAPI validation error.
type validationIssue struct {
	Type  string          `json:"type"`
	Loc   []any           `json:"loc"`
	Msg   string          `json:"msg"`
	Input json.RawMessage `json:"input"`
	Ctx   any             `json:"ctx,omitempty"`
}

type validationBody struct {
	Detail []validationIssue `json:"detail"`
}

// rawInput is v as a JSON value for an issue's input.
func rawInput(v any) json.RawMessage {
	data, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return data
}

func writeValidation(w http.ResponseWriter, issues ...validationIssue) {
	writeJSON(w, http.StatusUnprocessableEntity, validationBody{Detail: issues})
}

func missingIssue(loc []any, input json.RawMessage) validationIssue {
	if input == nil {
		input = json.RawMessage("null")
	}
	return validationIssue{Type: "missing", Loc: loc, Msg: "Field required", Input: input}
}

type enumCtx struct {
	Expected string `json:"expected"`
}

// enumIssue is pydantic's error for a value outside an enum: "Input should be 'a', 'b' or 'c'".
func enumIssue(loc []any, input json.RawMessage, allowed []string) validationIssue {
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = "'" + a + "'"
	}
	expected := quoted[0]
	if n := len(quoted); n > 1 {
		expected = strings.Join(quoted[:n-1], ", ") + " or " + quoted[n-1]
	}
	return validationIssue{Type: "enum", Loc: loc, Msg: "Input should be " + expected, Input: input,
		Ctx: enumCtx{Expected: expected}}
}

// decodeObject reads r's body as one JSON object into v (a pointer to a struct). When allowed is
// not nil, other keys are refused with extra_forbidden (pydantic's extra='forbid'); a wrong value
// type is a 422 naming the field. An empty body is FastAPI's "Field required" for the body. On
// failure the response has been written and decodeObject returns false.
func decodeObject(w http.ResponseWriter, r *http.Request, v any, allowed map[string]bool) bool {
	data, ok := readBody(w, r)
	if !ok {
		return false
	}
	if len(bytes.TrimSpace(data)) == 0 {
		writeValidation(w, missingIssue([]any{"body"}, nil))
		return false
	}
	return decodeObjectData(w, data, v, allowed)
}

// readBody reads the request body, bounded by maxBodyBytes; it answers 413 or 400 itself.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, detailBody{Detail: fmt.Sprintf("Request body larger than %d bytes", maxBodyBytes)})
		} else {
			writeJSON(w, http.StatusBadRequest, detailBody{Detail: "Invalid JSON: could not read the request body"})
		}
		return nil, false
	}
	return data, true
}

func decodeObjectData(w http.ResponseWriter, data []byte, v any, allowed map[string]bool) bool {
	var syntax any
	if err := json.Unmarshal(data, &syntax); err != nil {
		writeJSON(w, http.StatusBadRequest, detailBody{Detail: "Invalid JSON: " + jsonReason(err)})
		return false
	}
	trimmed := bytes.TrimSpace(data)
	if trimmed[0] != '{' {
		writeValidation(w, validationIssue{Type: "model_attributes_type", Loc: []any{"body"},
			Msg: "Input should be a valid dictionary or object to extract fields from", Input: trimmed})
		return false
	}
	if allowed != nil {
		var issues []validationIssue
		for _, kv := range objectMembers(trimmed) {
			if !allowed[kv.key] {
				issues = append(issues, validationIssue{Type: "extra_forbidden", Loc: []any{"body", kv.key},
					Msg: "Extra inputs are not permitted", Input: kv.value})
			}
		}
		if len(issues) > 0 {
			writeValidation(w, issues...)
			return false
		}
	}
	if err := json.Unmarshal(trimmed, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			writeValidation(w, typeIssue(trimmed, te))
			return false
		}
		writeJSON(w, http.StatusBadRequest, detailBody{Detail: "Invalid JSON: " + jsonReason(err)})
		return false
	}
	return true
}

// jsonReason is a short description of a JSON syntax error that never quotes the body.
func jsonReason(err error) string {
	return err.Error()
}

type member struct {
	key   string
	value json.RawMessage
}

// objectMembers lists the members of a valid JSON object in document order.
func objectMembers(obj []byte) []member {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return nil
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return out
		}
		out = append(out, member{key: key, value: val})
	}
	return out
}

// fieldsOf is the set of JSON names of the fields of the struct v points to, minus except.
func fieldsOf(v any, except ...string) map[string]bool {
	names := map[string]bool{}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names[name] = true
	}
	for _, k := range except {
		delete(names, k)
	}
	return names
}

// typeIssue turns a Go type mismatch into pydantic's error for the field.
func typeIssue(obj []byte, te *json.UnmarshalTypeError) validationIssue {
	loc := []any{"body"}
	var path []string
	if te.Field != "" {
		path = strings.Split(te.Field, ".")
		for _, p := range path {
			loc = append(loc, p)
		}
	}
	typ, msg := "model_type", "Input should be a valid dictionary or object"
	switch te.Type.Kind() {
	case reflect.String:
		typ, msg = "string_type", "Input should be a valid string"
	case reflect.Bool:
		typ, msg = "bool_type", "Input should be a valid boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		typ, msg = "int_type", "Input should be a valid integer"
	case reflect.Float32, reflect.Float64:
		typ, msg = "float_type", "Input should be a valid number"
	case reflect.Slice, reflect.Array:
		typ, msg = "list_type", "Input should be a valid list"
	}
	return validationIssue{Type: typ, Loc: loc, Msg: msg, Input: lookupJSON(obj, path)}
}

// lookupJSON follows keys through nested objects of obj; null when the path does not lead to a
// value.
func lookupJSON(obj []byte, path []string) json.RawMessage {
	cur := json.RawMessage(obj)
	for _, key := range path {
		var m map[string]json.RawMessage
		if json.Unmarshal(cur, &m) != nil {
			return json.RawMessage("null")
		}
		next, ok := m[key]
		if !ok {
			return json.RawMessage("null")
		}
		cur = next
	}
	return cur
}

// Query parameters, parsed as FastAPI does.

// queryInt reads an optional integer query parameter. ok is false when the response (a 422) has
// been written.
func queryInt(w http.ResponseWriter, r *http.Request, name string, def int64) (int64, bool) {
	s, present := queryValue(r, name)
	if !present {
		return def, true
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		writeValidation(w, validationIssue{Type: "int_parsing", Loc: []any{"query", name},
			Msg: "Input should be a valid integer, unable to parse string as an integer", Input: rawInput(s)})
		return 0, false
	}
	return n, true
}

// queryBool reads an optional boolean query parameter with pydantic's spellings.
func queryBool(w http.ResponseWriter, r *http.Request, name string, def bool) (bool, bool) {
	s, present := queryValue(r, name)
	if !present {
		return def, true
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "t", "yes", "y", "on":
		return true, true
	case "0", "false", "f", "no", "n", "off":
		return false, true
	}
	writeValidation(w, validationIssue{Type: "bool_parsing", Loc: []any{"query", name},
		Msg: "Input should be a valid boolean, unable to interpret input", Input: rawInput(s)})
	return false, false
}

// queryValue is the first value of a query parameter and whether it was given at all.
func queryValue(r *http.Request, name string) (string, bool) {
	vals, ok := r.URL.Query()[name]
	if !ok || len(vals) == 0 {
		return "", false
	}
	return vals[0], true
}

// requireQuery reads a required string query parameter; a missing one is FastAPI's 422.
func requireQuery(w http.ResponseWriter, r *http.Request, name string) (string, bool) {
	s, ok := queryValue(r, name)
	if !ok {
		writeValidation(w, missingIssue([]any{"query", name}, nil))
		return "", false
	}
	return s, true
}
