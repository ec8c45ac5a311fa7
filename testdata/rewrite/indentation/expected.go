package indent

func Deep() {
if vatColumnZero, __fpErr := __fp_atColumnZero.Acquire(); __fpErr == nil { _, __fpTypeOK := vatColumnZero.(struct{}); if !__fpTypeOK { goto __badTypeatColumnZero} ; goto __nomockatColumnZero; __badTypeatColumnZero: __fp_atColumnZero.BadType(vatColumnZero, "struct{}"); __nomockatColumnZero: };
	if true {
		if true {
			if vthreeTabs, __fpErr := __fp_threeTabs.Acquire(); __fpErr == nil { threeTabs, __fpTypeOK := vthreeTabs.(string); if !__fpTypeOK { goto __badTypethreeTabs} 
				 _ = threeTabs; goto __nomockthreeTabs; __badTypethreeTabs: __fp_threeTabs.BadType(vthreeTabs, "string"); __nomockthreeTabs: };
		}
	}
    if vfourSpaces, __fpErr := __fp_fourSpaces.Acquire(); __fpErr == nil { _, __fpTypeOK := vfourSpaces.(struct{}); if !__fpTypeOK { goto __badTypefourSpaces} ; goto __nomockfourSpaces; __badTypefourSpaces: __fp_fourSpaces.BadType(vfourSpaces, "struct{}"); __nomockfourSpaces: };
	func() {
		if vinClosure, __fpErr := __fp_inClosure.Acquire(); __fpErr == nil { _, __fpTypeOK := vinClosure.(struct{}); if !__fpTypeOK { goto __badTypeinClosure} ; goto __nomockinClosure; __badTypeinClosure: __fp_inClosure.BadType(vinClosure, "struct{}"); __nomockinClosure: };
	}()
}
