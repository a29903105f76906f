package gsekit

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/procq/procq/api"
)

// WriteJSON answers status with body, a JSON document, and its length.
// It is the one writer of every envelope procq sends over HTTP.
func WriteJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // the client may be gone; nothing to do about it
}

// WriteError answers status with the error envelope of code and msg
// (result false, data null). msg goes to the client: it must not carry
// file paths, peer addresses or secrets.
func WriteError(w http.ResponseWriter, status, code int, msg string) {
	WriteJSON(w, status, api.AppendError(nil, &api.Error{Code: code, Message: msg}))
}

// WriteData answers 200 with the success envelope around data, which is
// encoded with encoding/json; one that cannot be encoded answers 500.
func WriteData(w http.ResponseWriter, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, api.CodeInternal, "internal error: the answer could not be encoded")
		return
	}
	out := append([]byte(`{"result":true,"code":0,"message":"","data":`), b...)
	WriteJSON(w, http.StatusOK, append(out, '}'))
}
