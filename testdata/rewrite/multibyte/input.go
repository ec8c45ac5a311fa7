package multibyte

// Größe: ünïcödé before the marker, so byte and character columns differ.
func Größe() string {
	s := "日本語"
	// gofail: var umlautValue string
	// s = "ß" + umlautValue
	return s
}
