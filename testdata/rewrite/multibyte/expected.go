package multibyte

// Größe: ünïcödé before the marker, so byte and character columns differ.
func Größe() string {
	s := "日本語"
	if vumlautValue, __fpErr := __fp_umlautValue.Acquire(); __fpErr == nil { umlautValue, __fpTypeOK := vumlautValue.(string); if !__fpTypeOK { goto __badTypeumlautValue} 
		 s = "ß" + umlautValue; goto __nomockumlautValue; __badTypeumlautValue: __fp_umlautValue.BadType(vumlautValue, "string"); __nomockumlautValue: };
	return s
}
