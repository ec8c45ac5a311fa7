package rawstring

const template = `
	// gofail: var notAFailpoint struct{}
`

func F() string {
	/* // gofail: var alsoNot struct{} */
	if vreal, __fpErr := __fp_real.Acquire(); __fpErr == nil { _, __fpTypeOK := vreal.(struct{}); if !__fpTypeOK { goto __badTypereal} ; goto __nomockreal; __badTypereal: __fp_real.BadType(vreal, "struct{}"); __nomockreal: };
	return template
}
