package sw

func Dispatch(kind int, ch chan int) int {
	switch kind {
	case 1:
		if vcaseOne, __fpErr := __fp_caseOne.Acquire(); __fpErr == nil { _, __fpTypeOK := vcaseOne.(struct{}); if !__fpTypeOK { goto __badTypecaseOne} ; goto __nomockcaseOne; __badTypecaseOne: __fp_caseOne.BadType(vcaseOne, "struct{}"); __nomockcaseOne: };
		return 1
	default:
		if vcaseDefault, __fpErr := __fp_caseDefault.Acquire(); __fpErr == nil { caseDefault, __fpTypeOK := vcaseDefault.(int); if !__fpTypeOK { goto __badTypecaseDefault} 
			 kind = caseDefault; goto __nomockcaseDefault; __badTypecaseDefault: __fp_caseDefault.BadType(vcaseDefault, "int"); __nomockcaseDefault: };
	}
	select {
	case v := <-ch:
		if vonReceive, __fpErr := __fp_onReceive.Acquire(); __fpErr == nil { _, __fpTypeOK := vonReceive.(struct{}); if !__fpTypeOK { goto __badTypeonReceive} ; goto __nomockonReceive; __badTypeonReceive: __fp_onReceive.BadType(vonReceive, "struct{}"); __nomockonReceive: };
		return v
	default:
	}
	return kind
}
