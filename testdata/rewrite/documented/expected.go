package documented

import "fmt"

func Example() {
	if vTest, __fpErr := __fp_Test.Acquire(); __fpErr == nil { Test, __fpTypeOK := vTest.(int); if !__fpTypeOK { goto __badTypeTest} 
		 fmt.Println(Test); goto __nomockTest; __badTypeTest: __fp_Test.BadType(vTest, "int"); __nomockTest: };

	if vOneLine, __fpErr := __fp_OneLine.Acquire(); __fpErr == nil { _, __fpTypeOK := vOneLine.(struct{}); if !__fpTypeOK { goto __badTypeOneLine} ; goto __nomockOneLine; __badTypeOneLine: __fp_OneLine.BadType(vOneLine, "struct{}"); __nomockOneLine: };
	fmt.Println("after")
}
