package rawstring

const template = `
	// gofail: var notAFailpoint struct{}
`

func F() string {
	/* // gofail: var alsoNot struct{} */
	// gofail: var real struct{}
	return template
}
