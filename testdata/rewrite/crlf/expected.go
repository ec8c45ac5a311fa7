package crlf

func F() int {
	if vcrlfPoint, __fpErr := __fp_crlfPoint.Acquire(); __fpErr == nil { crlfPoint, __fpTypeOK := vcrlfPoint.(int); if !__fpTypeOK { goto __badTypecrlfPoint} 
		 return crlfPoint; goto __nomockcrlfPoint; __badTypecrlfPoint: __fp_crlfPoint.BadType(vcrlfPoint, "int"); __nomockcrlfPoint: };
	return 0
}
