package two

func F() {
	if vfirst, __fpErr := __fp_first.Acquire(); __fpErr == nil { _, __fpTypeOK := vfirst.(struct{}); if !__fpTypeOK { goto __badTypefirst} ; goto __nomockfirst; __badTypefirst: __fp_first.BadType(vfirst, "struct{}"); __nomockfirst: };
	if vsecond, __fpErr := __fp_second.Acquire(); __fpErr == nil { _, __fpTypeOK := vsecond.(struct{}); if !__fpTypeOK { goto __badTypesecond} ; goto __nomocksecond; __badTypesecond: __fp_second.BadType(vsecond, "struct{}"); __nomocksecond: };
	println("x")
}
