// The JSON output.

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strconv"
)

// plain: printable ASCII that JSON writes as it is.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func write(w *bufio.Writer, v any) {
	switch x := v.(type) {
	case nil:
		w.WriteString("null")
	case bool:
		w.WriteString(strconv.FormatBool(x))
	case int:
		w.WriteString(strconv.Itoa(x))
	case number:
		w.WriteString(string(x))
	case string:
		if plain(x) {
			w.WriteByte('"')
			w.WriteString(x)
			w.WriteByte('"')
			return
		}
		b, _ := json.Marshal(x)
		w.Write(b)
	case []any:
		w.WriteByte('[')
		for i, el := range x {
			if i > 0 {
				w.WriteByte(',')
			}
			write(w, el)
		}
		w.WriteByte(']')
	case *object:
		w.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				w.WriteByte(',')
			}
			write(w, k)
			w.WriteByte(':')
			write(w, x.values[k])
		}
		w.WriteByte('}')
	default:
		panic(fmt.Sprintf("cannot encode %T", v))
	}
}
