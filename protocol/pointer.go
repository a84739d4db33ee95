package protocol

import "strings"

var (
	segmentEscaper   = strings.NewReplacer("~", "~0", "/", "~1")
	segmentUnescaper = strings.NewReplacer("~1", "/", "~0", "~")
)

// AppendSegment appends "/" and the key escaped per RFC 6901 ("~" as "~0",
// "/" as "~1"), so that keys containing either stay one segment.
func AppendSegment(dst []byte, key string) []byte {
	dst = append(dst, '/')
	if !strings.ContainsAny(key, "~/") {
		return append(dst, key...)
	}
	return append(dst, segmentEscaper.Replace(key)...)
}

// SplitPointer splits a JSON Pointer into decoded segments. Following the TS
// client, both "" and "/" denote the root (nil).
func SplitPointer(path string) []string {
	if path == "" || path == "/" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, p := range parts {
		if strings.Contains(p, "~") {
			parts[i] = segmentUnescaper.Replace(p)
		}
	}
	return parts
}
