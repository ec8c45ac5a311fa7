package blockcomment

func f() int {
	/*
	// gofail: var insideBlock struct{}
	*/
	if vafterBlock, __fpErr := __fp_afterBlock.Acquire(); __fpErr == nil { afterBlock, __fpTypeOK := vafterBlock.(int); if !__fpTypeOK { goto __badTypeafterBlock} 
		 return afterBlock; goto __nomockafterBlock; __badTypeafterBlock: __fp_afterBlock.BadType(vafterBlock, "int"); __nomockafterBlock: };
	return 0
}
