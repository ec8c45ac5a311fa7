package labels

func Loop(items []int) int {
	sum := 0
	/* gofail-label */ outer:
	for _, item := range items {
		for i := 0; i < item; i++ {
			if vskipItem, __fpErr := __fp_skipItem.Acquire(); __fpErr == nil { skipItem, __fpTypeOK := vskipItem.(bool); if !__fpTypeOK { goto __badTypeskipItem} 
				 if skipItem {
					continue outer
				 }; goto __nomockskipItem; __badTypeskipItem: __fp_skipItem.BadType(vskipItem, "bool"); __nomockskipItem: };
			sum += i
		}
	}
	return sum
}
